#include "serverprocess.h"

#include "httpclient.h"

#include <QElapsedTimer>
#include <QRegularExpression>

#ifndef Q_OS_WIN
#include <csignal>
#endif

ServerProcess::ServerProcess(QStringList extraArguments, QProcessEnvironment environment)
    : m_arguments(QStringList{QStringLiteral("-addr"), QStringLiteral("127.0.0.1:0")} +
                  extraArguments)
{
    m_process.setProcessEnvironment(environment);
    m_process.setProgram(binary());
    m_process.setArguments(m_arguments);
}

ServerProcess::~ServerProcess()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
}

bool ServerProcess::start(int timeoutMs)
{
    m_process.start();
    if (!m_process.waitForStarted(timeoutMs))
        return false;
    static const QRegularExpression listening(
        QStringLiteral("listening on http://[^\\s:]+:(\\d+)"));
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < timeoutMs && m_process.state() == QProcess::Running) {
        m_process.waitForReadyRead(100);
        m_log += m_process.readAllStandardError();
        const auto match = listening.match(QString::fromUtf8(m_log));
        if (match.hasMatch()) {
            m_port = static_cast<quint16>(match.captured(1).toUInt());
            return true;
        }
    }
    return false;
}

QString ServerProcess::baseUrl() const
{
    return QStringLiteral("http://127.0.0.1:%1").arg(m_port);
}

qint64 ServerProcess::terminate(int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
#ifdef Q_OS_WIN
    // Windows has no SIGTERM for another console's process: this one ends without a goodbye.
    m_process.kill();
#else
    ::kill(static_cast<pid_t>(m_process.processId()), SIGTERM);
#endif
    if (!m_process.waitForFinished(timeoutMs))
        return -1;
    return clock.elapsed();
}

QByteArray ServerProcess::log()
{
    // Without an event loop, QProcess only reads the pipe while waiting on it.
    while (m_process.state() == QProcess::Running && m_process.waitForReadyRead(200))
        m_log += m_process.readAllStandardError();
    m_log += m_process.readAllStandardError();
    return m_log;
}

bool ServerProcess::waitForLog(QByteArrayView text, int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    for (;;) {
        m_log += m_process.readAllStandardError();
        if (m_log.contains(text))
            return true;
        if (clock.elapsed() >= timeoutMs || m_process.state() != QProcess::Running)
            return false;
        m_process.waitForReadyRead(
            static_cast<int>(qMin<qint64>(100, timeoutMs - clock.elapsed())));
    }
}

double ServerProcess::metric(const QByteArray &sample) const
{
    const QByteArray text = HttpClient(m_port).get("/metrics").body;
    for (const QByteArray &line : text.split('\n'))
        if (line.startsWith(sample + ' '))
            return line.mid(sample.size() + 1).toDouble();
    return -1;
}
