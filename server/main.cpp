#include "daemon.h"
#include "goopversion.h"
#include "serverconfig.h"

#include <QCoreApplication>

#include <cstdio>

int main(int argc, char *argv[])
{
    // Qt's glib event loop slows down linearly with open sockets; its own poll loop does not
    // (QT64.md). This must be set before the application object exists.
    qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("goop-rendezvous"));
    QCoreApplication::setApplicationVersion(QStringLiteral(GOOP_VERSION));

    QHash<QString, QString> environment;
    for (const char *name : {"GOOP_RENDEZVOUS_ADDR", "GOOP_LOG_LEVEL", "GOOP_REDIS_URL",
                             "GOOP_TRUSTED_PROXIES", "GOOP_ADMIN_PASSWORD_FILE"}) {
        if (qEnvironmentVariableIsSet(name))
            environment.insert(QString::fromLatin1(name), qEnvironmentVariable(name));
    }
    const CommandLine commandLine = CommandLine::parse(QCoreApplication::arguments(), environment);
    switch (commandLine.action) {
    case CommandLine::Action::PrintAndExit:
        std::fputs(qPrintable(commandLine.text), stdout);
        return 0;
    case CommandLine::Action::FailAndExit:
        std::fprintf(stderr, "%s\n", qPrintable(commandLine.text));
        return 2;
    case CommandLine::Action::Run:
        break;
    }
    return runDaemon(commandLine.config);
}
