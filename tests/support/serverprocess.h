#pragma once

#include <QProcess>
#include <QStringList>

// The real goop-rendezvous binary, started on 127.0.0.1 port 0 with extra arguments; the
// port it bound is read from its "listening on" log line.
class ServerProcess
{
public:
    explicit ServerProcess(
        QStringList extraArguments = {},
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment());
    ~ServerProcess(); // kills the process if it still runs

    bool start(int timeoutMs = 10000); // false if it did not report listening in time
    quint16 port() const { return m_port; }
    QString baseUrl() const;
    qint64 pid() const { return m_process.processId(); }

    // Sends SIGTERM and waits; returns the milliseconds it took to exit, or -1.
    qint64 terminate(int timeoutMs = 5000);
    int exitCode() const { return m_process.exitCode(); }
    QProcess::ExitStatus exitStatus() const { return m_process.exitStatus(); }

    // Everything the server wrote to stderr so far.
    QByteArray log();
    // Reads the log until it contains `text`, for at most `timeoutMs`; true if it does.
    bool waitForLog(QByteArrayView text, int timeoutMs = 5000);
    // A value from /metrics: the first sample whose line starts with `sample` (a name, with
    // labels if it has them); -1 when there is none.
    double metric(const QByteArray &sample) const;

    static QString binary() { return QStringLiteral(GOOP_RENDEZVOUS_BINARY); }
    // For a test that publishes or connects far faster than any peer (one peer's events by
    // the thousand, from one address): the per-client rate limits off.
    static QStringList floodArguments()
    {
        return {"--peer-publish-rate", "0", "--address-publish-rate", "0",
                "--connection-rate",   "0"};
    }

private:
    QProcess m_process;
    QStringList m_arguments;
    QByteArray m_log;
    quint16 m_port = 0;
};
