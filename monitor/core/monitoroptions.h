#pragma once

#include <QStringList>
#include <QUrl>

// goop-monitor's command line, parsed before any window exists so that --help and --version
// work without a display.
struct MonitorOptions
{
    enum class Action
    {
        Run,
        PrintAndExit,
        FailAndExit
    };

    Action action = Action::Run;
    QString text;            // what to print for PrintAndExit / FailAndExit
    QList<QUrl> servers;     // from --server; empty means "the saved ones, else the default"
    QString credentialsFile; // --credentials: netrc-style, for servers behind a password

    static QUrl defaultServer() { return QUrl(QStringLiteral("http://localhost:8787")); }
    static MonitorOptions parse(const QStringList &arguments);
};
