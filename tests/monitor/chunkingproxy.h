#pragma once

#include <QByteArray>
#include <QList>
#include <QPointer>
#include <QTcpServer>
#include <QTimer>

#include <memory>
#include <vector>

class QTcpSocket;

// A loopback TCP relay in front of the real server that hands the server's bytes to the client
// in odd little chunks (1, 2, 3, 5, 7, 11, 13 bytes, each flushed on its own), so the client's
// SSE handling sees frames split anywhere. It can also go silent, to trip the watchdog.
class ChunkingProxy : public QObject
{
    Q_OBJECT

public:
    explicit ChunkingProxy(quint16 upstreamPort, QObject *parent = nullptr);

    bool listen();
    quint16 port() const { return m_server.serverPort(); }
    QString baseUrl() const;

    // While paused the relay forwards nothing either way (the connections stay open).
    void setPaused(bool paused) { m_paused = paused; }
    qint64 chunksSent() const { return m_chunks; }
    // Drops every connection through the relay at once, as a proxy that recycles them would.
    void cut();

private:
    struct Pipe
    {
        QPointer<QTcpSocket> client;
        QPointer<QTcpSocket> upstream;
        QByteArray toClient;
    };

    void onConnection();
    void pump();

    QTcpServer m_server;
    quint16 m_upstreamPort;
    std::vector<std::unique_ptr<Pipe>> m_pipes; // a pipe's sockets are the server's children
    QTimer m_pump;
    bool m_paused = false;
    qint64 m_chunks = 0;
};
