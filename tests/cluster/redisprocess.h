#pragma once

#include <QByteArrayList>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

// A throw-away redis-server on 127.0.0.1 without persistence, so that a restart on the same
// port starts empty, as after a crash of a Redis without a disk; unless it was told to SAVE
// before: then it starts again from that, in its own temporary directory.
class RedisProcess
{
public:
    RedisProcess();
    ~RedisProcess(); // kills the server if it still runs

    // Starts (again, on the same port after kill()) and waits until it answers PING.
    bool start(int timeoutMs = 10000);
    // SIGKILL: no shutdown, no goodbye to the connected instances.
    void kill();

    quint16 port() const { return m_port; }
    QString url() const { return QStringLiteral("redis://127.0.0.1:%1/0").arg(m_port); }

    // Runs one command on a fresh connection and returns the raw RESP reply (empty on failure).
    QByteArray command(const QByteArrayList &arguments, int timeoutMs = 5000) const;
    // The same for a command whose reply is an integer; -1 when it is not one.
    qint64 integer(const QByteArrayList &arguments) const;

    static QString binary() { return QStringLiteral(REDIS_SERVER_BINARY); }

private:
    QProcess m_process;
    QTemporaryDir m_directory;
    quint16 m_port = 0;
};
