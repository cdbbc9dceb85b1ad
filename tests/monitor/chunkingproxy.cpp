#include "chunkingproxy.h"

#include <QTcpSocket>

ChunkingProxy::ChunkingProxy(quint16 upstreamPort, QObject *parent)
    : QObject(parent), m_upstreamPort(upstreamPort)
{
    connect(&m_server, &QTcpServer::newConnection, this, &ChunkingProxy::onConnection);
    m_pump.setInterval(1);
    connect(&m_pump, &QTimer::timeout, this, &ChunkingProxy::pump);
    m_pump.start();
}

bool ChunkingProxy::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

QString ChunkingProxy::baseUrl() const
{
    return QStringLiteral("http://127.0.0.1:%1").arg(port());
}

void ChunkingProxy::onConnection()
{
    while (QTcpSocket *client = m_server.nextPendingConnection()) {
        Pipe *pipe = m_pipes.emplace_back(std::make_unique<Pipe>()).get();
        pipe->client = client;
        client->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        pipe->upstream = new QTcpSocket(client);
        pipe->upstream->connectToHost(QHostAddress::LocalHost, m_upstreamPort);
        // Requests go up whole: only the server's answer is cut up.
        connect(client, &QTcpSocket::readyRead, client, [this, pipe] {
            if (!m_paused && pipe->upstream)
                pipe->upstream->write(pipe->client->readAll());
        });
        connect(pipe->upstream, &QTcpSocket::readyRead, client,
                [pipe] { pipe->toClient += pipe->upstream->readAll(); });
        connect(pipe->upstream, &QTcpSocket::disconnected, client, [pipe] {
            if (pipe->toClient.isEmpty())
                pipe->client->disconnectFromHost();
        });
        connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
    }
}

void ChunkingProxy::cut()
{
    for (const auto &pipe : m_pipes) {
        if (pipe->upstream)
            pipe->upstream->abort();
        if (pipe->client)
            pipe->client->abort();
        pipe->toClient.clear();
    }
}

void ChunkingProxy::pump()
{
    static const int sizes[] = {1, 2, 3, 5, 7, 11, 13};
    for (auto it = m_pipes.begin(); it != m_pipes.end();) {
        Pipe *pipe = it->get();
        if (!pipe->client) {
            it = m_pipes.erase(it);
            continue;
        }
        if (pipe->upstream && pipe->upstream->state() == QAbstractSocket::ConnectedState &&
            !m_paused) {
            // A request sent before the upstream connection was up waits in the client socket.
            if (pipe->client->bytesAvailable() > 0)
                pipe->upstream->write(pipe->client->readAll());
        }
        // Several chunks per tick keep a burst of events from backing up behind the timer.
        for (int n = 0; n < 16 && !m_paused && !pipe->toClient.isEmpty(); ++n) {
            const int size =
                qMin<int>(sizes[m_chunks % 7], static_cast<int>(pipe->toClient.size()));
            pipe->client->write(pipe->toClient.left(size));
            pipe->client->flush();
            pipe->toClient.remove(0, size);
            ++m_chunks;
        }
        if (pipe->toClient.isEmpty() &&
            (!pipe->upstream || pipe->upstream->state() == QAbstractSocket::UnconnectedState))
            pipe->client->disconnectFromHost();
        ++it;
    }
}
