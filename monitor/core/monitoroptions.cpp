#include "monitoroptions.h"

#include "goopversion.h"

#include <QCommandLineParser>

MonitorOptions MonitorOptions::parse(const QStringList &arguments)
{
    MonitorOptions options;
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Watches the peers of one or more Goop2 rendezvous servers live."));
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help and exit."));
    const QCommandLineOption version(QStringLiteral("version"),
                                     QStringLiteral("Show the version and exit."));
    const QCommandLineOption server(
        QStringLiteral("server"),
        QStringLiteral("A rendezvous server to follow (repeatable). Default: the servers of the "
                       "last session, else %1.")
            .arg(defaultServer().toString()),
        QStringLiteral("URL"));
    const QCommandLineOption credentials(
        QStringLiteral("credentials"),
        QStringLiteral("Sign in to servers behind a password with the credentials in FILE, in the "
                       "netrc format curl reads (machine HOST login admin password SECRET; mode "
                       "600). Without it the monitor asks."),
        QStringLiteral("FILE"));
    parser.addOptions({help, version, server, credentials});

    const auto fail = [&](const QString &message) {
        options.action = Action::FailAndExit;
        options.text = QStringLiteral("goop-monitor: %1 (see goop-monitor --help)\n").arg(message);
        return options;
    };
    if (!parser.parse(arguments))
        return fail(parser.errorText());
    if (!parser.positionalArguments().isEmpty())
        return fail(
            QStringLiteral("unexpected argument \"%1\"").arg(parser.positionalArguments().first()));
    if (parser.isSet(help)) {
        options.action = Action::PrintAndExit;
        // No QCoreApplication exists yet, so Qt cannot name the program itself.
        options.text = parser.helpText().replace(QStringLiteral("<executable_name>"),
                                                 QStringLiteral("goop-monitor"));
        return options;
    }
    if (parser.isSet(version)) {
        options.action = Action::PrintAndExit;
        options.text = QStringLiteral("goop-monitor " GOOP_VERSION "\n");
        return options;
    }
    options.credentialsFile = parser.value(credentials);
    for (const QString &text : parser.values(server)) {
        const QUrl url = QUrl::fromUserInput(text);
        if (!url.userInfo().isEmpty())
            return fail(QStringLiteral("a password in a URL shows in the process list: use "
                                       "--credentials FILE, or let the monitor ask"));
        if (!url.isValid() ||
            (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
            return fail(QStringLiteral("invalid server URL \"%1\"").arg(text));
        options.servers.append(url);
    }
    return options;
}
