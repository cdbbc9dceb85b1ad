#include "goopversion.h"
#include "mainwindow.h"
#include "monitoroptions.h"
#include "monitorsession.h"

#include <QApplication>
#include <QSettings>

#include <cstdio>

int main(int argc, char *argv[])
{
    // Parsed before QApplication so that --help and --version need no display.
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));
    const MonitorOptions options = MonitorOptions::parse(arguments);
    if (options.action != MonitorOptions::Action::Run) {
        const bool failed = options.action == MonitorOptions::Action::FailAndExit;
        std::fputs(options.text.toLocal8Bit().constData(), failed ? stderr : stdout);
        return failed ? 2 : 0;
    }

    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("goop"));
    QApplication::setApplicationName(QStringLiteral("goop-monitor"));
    QApplication::setApplicationVersion(QStringLiteral(GOOP_VERSION));

    MonitorSession session;
    if (!options.credentialsFile.isEmpty()) {
        QString error;
        if (!session.credentials().loadNetrc(options.credentialsFile, &error)) {
            std::fprintf(stderr, "goop-monitor: %s\n", qPrintable(error));
            return 2;
        }
    }
    QSettings settings;
    MainWindow window(&session, &settings);
    window.startFollowing(options.servers);
    window.show();
    return app.exec();
}
