#include "logging.h"

#include "logsink.h"

#include <QDateTime>
#include <QLoggingCategory>

namespace {

LogSink *g_sink = nullptr;
bool g_journal = false;
QtMessageHandler g_previousHandler = nullptr;

// syslog(3) priorities, which journald reads from a "<N>" line prefix.
int syslogPriority(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return 7;
    case QtInfoMsg:
        return 6;
    case QtWarningMsg:
        return 4;
    case QtCriticalMsg:
        return 3;
    case QtFatalMsg:
        return 2;
    }
    return 6;
}

const char *levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return "debug";
    case QtInfoMsg:
        return "info";
    case QtWarningMsg:
        return "warn";
    case QtCriticalMsg:
        return "error";
    case QtFatalMsg:
        return "fatal";
    }
    return "info";
}

void handleMessage(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QByteArray category = context.category ? context.category : "default";
    QByteArray line;
    if (g_journal) // the journal stamps the time itself
        line = '<' + QByteArray::number(syslogPriority(type)) + '>';
    else
        line = now.toString(Qt::ISODateWithMs).toUtf8() + ' ' + levelName(type) + ' ';
    line += category + ": " + message.toUtf8() + '\n';
    // /logs.json shows what happened to the network, not every request.
    const bool recent = type != QtDebugMsg;
    const QString recentLine =
        recent
            ? QLatin1Char('[') + QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")) +
                  QLatin1String("] ") + message
            : QString();
    g_sink->write(std::move(line), recentLine);
    if (type == QtFatalMsg)
        std::abort();
}

} // namespace

namespace Logging {

std::optional<Level> parseLevel(QStringView name)
{
    const QString lower = name.trimmed().toString().toLower();
    if (lower == QLatin1String("debug"))
        return Level::Debug;
    if (lower == QLatin1String("info"))
        return Level::Info;
    if (lower == QLatin1String("warn") || lower == QLatin1String("warning"))
        return Level::Warning;
    if (lower == QLatin1String("error"))
        return Level::Error;
    return std::nullopt;
}

Installation::Installation(LogSink *sink, Level level)
{
    g_sink = sink;
    g_journal = qEnvironmentVariableIsSet("JOURNAL_STREAM");
    QString rules;
    if (level > Level::Debug)
        rules += QStringLiteral("goop.*.debug=false\n");
    else
        rules += QStringLiteral("goop.*.debug=true\n");
    if (level > Level::Info)
        rules += QStringLiteral("goop.*.info=false\n");
    else
        rules += QStringLiteral("goop.*.info=true\n");
    if (level > Level::Warning)
        rules += QStringLiteral("goop.*.warning=false\n");
    QLoggingCategory::setFilterRules(rules);
    g_previousHandler = qInstallMessageHandler(handleMessage);
}

Installation::~Installation()
{
    qInstallMessageHandler(g_previousHandler);
    g_sink = nullptr;
}

} // namespace Logging
