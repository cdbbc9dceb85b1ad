#include "redisprocess.h"

#include "loopbackport.h"

#include <QDeadlineTimer>
#include <QTcpSocket>
#include <QThread>

RedisProcess::RedisProcess() : m_port(freeLoopbackPort())
{
    m_process.setProgram(binary());
    m_process.setProcessChannelMode(QProcess::MergedChannels);
}

RedisProcess::~RedisProcess()
{
    kill();
}

bool RedisProcess::start(int timeoutMs)
{
    m_process.setArguments({"--port", QString::number(m_port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
                            "--loglevel", "warning", "--dir", m_directory.path()});
    m_process.start();
    if (!m_process.waitForStarted(timeoutMs))
        return false;
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired() && m_process.state() == QProcess::Running) {
        if (command({"PING"}, 500) == "+PONG\r\n")
            return true;
        QThread::msleep(20);
    }
    return false;
}

void RedisProcess::kill()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.kill();
    m_process.waitForFinished(5000);
}

QByteArray RedisProcess::command(const QByteArrayList &arguments, int timeoutMs) const
{
    QByteArray request = '*' + QByteArray::number(arguments.size()) + "\r\n";
    for (const QByteArray &argument : arguments)
        request += '$' + QByteArray::number(argument.size()) + "\r\n" + argument + "\r\n";
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_port);
    if (!socket.waitForConnected(timeoutMs))
        return {};
    socket.write(request);
    // Only the simple replies this test asks for: one line (status, error, integer).
    QDeadlineTimer deadline(timeoutMs);
    QByteArray reply;
    while (!reply.endsWith("\r\n") && !deadline.hasExpired()) {
        if (!socket.waitForReadyRead(static_cast<int>(qMax<qint64>(1, deadline.remainingTime()))))
            break;
        reply += socket.readAll();
    }
    return reply;
}

qint64 RedisProcess::integer(const QByteArrayList &arguments) const
{
    const QByteArray reply = command(arguments);
    if (!reply.startsWith(':') || !reply.endsWith("\r\n"))
        return -1;
    bool ok = false;
    const qint64 value = reply.mid(1, reply.size() - 3).toLongLong(&ok);
    return ok ? value : -1;
}
