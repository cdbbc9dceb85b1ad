#include "libp2phost.h"

#include "blockingcall.h"
#include "identifymessage.h"
#include "identifyservice.h"
#include "libp2pconnection.h"
#include "pinghandler.h"
#include "protocolregistry.h"
#include "threadcryptostate.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QNetworkInterface>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <map>
#include <memory>

Q_LOGGING_CATEGORY(lcLibp2p, "goop.server.libp2p")

namespace {

// A slow reader is not read from while this much waits to be sent to it, so that what it
// asks for never piles up in memory.
constexpr qint64 maxUnsentBytes = 1024 * 1024;
constexpr qint64 socketReadBufferBytes = 256 * 1024;

bool isUnspecified(const QHostAddress &address)
{
    return address == QHostAddress(QHostAddress::AnyIPv4) ||
           address == QHostAddress(QHostAddress::AnyIPv6) ||
           address == QHostAddress(QHostAddress::Any);
}

} // namespace

// Everything that lives on the host's thread.
class Libp2pHostWorker : public QObject
{
public:
    explicit Libp2pHostWorker(Libp2pHost &host)
        : m_host(host), m_identify(host.m_identity, host.m_options.agentVersion, m_registry,
                                   [this] { return advertised(); })
    {
        m_registry.add(IdentifyMessage::protocolId, [this] { return m_identify.handler(); });
        m_registry.add(PingHandler::protocolId, [] { return std::make_unique<PingHandler>(); });
        for (const auto &[protocol, factory] : host.m_options.protocols)
            m_registry.add(protocol, factory);
        m_sweeper.setParent(this); // moves to the host thread with the worker
        connect(&m_sweeper, &QTimer::timeout, this, &Libp2pHostWorker::sweep);
    }

    std::optional<QString> listen();
    void stop();
    Libp2pStream *openStream(const PeerId &peer, const std::optional<Multiaddr> &preferred,
                             std::vector<QByteArray> protocols,
                             std::unique_ptr<StreamHandler> handler);

private:
    struct Connection
    {
        QPointer<QTcpSocket> socket;
        std::unique_ptr<Libp2pConnection> libp2p;
        QElapsedTimer age;
        QElapsedTimer idle; // since the last byte received
        bool readingPaused = false;
    };

    QList<Multiaddr> advertised() const;
    void accept(QTcpServer &server);
    void read(QTcpSocket *socket);
    void closeConnection(QTcpSocket *socket, const char *why);
    void sweep();
    bool keptIdle(const Libp2pConnection &connection) const;
    void publishCount();

    Libp2pHost &m_host;
    ProtocolRegistry m_registry;
    IdentifyService m_identify;
    std::vector<std::unique_ptr<QTcpServer>> m_servers;
    std::map<QTcpSocket *, Connection> m_connections;
    QTimer m_sweeper;
};

QList<Multiaddr> Libp2pHostWorker::advertised() const
{
    QList<Multiaddr> addresses;
    for (const Multiaddr &address : m_host.advertisedAddresses())
        addresses.append(address);
    return addresses;
}

std::optional<QString> Libp2pHostWorker::listen()
{
    std::vector<Multiaddr> bound;
    for (const Multiaddr &address : m_host.m_options.listen) {
        const auto endpoint = address.tcpEndpoint();
        if (!endpoint)
            return QStringLiteral("cannot listen on %1: only /ip4/…/tcp/… and /ip6/…/tcp/… "
                                  "addresses can be listened on")
                .arg(address.toText());
        auto server = std::make_unique<QTcpServer>();
        if (!server->listen(endpoint->first, endpoint->second))
            return QStringLiteral("cannot listen on %1: %2")
                .arg(address.toText(), server->errorString());
        QTcpServer *raw = server.get();
        connect(raw, &QTcpServer::newConnection, this, [this, raw] { accept(*raw); });
        // An unspecified address is shown as each of this machine's addresses of its family.
        if (isUnspecified(endpoint->first)) {
            for (const QHostAddress &local : QNetworkInterface::allAddresses()) {
                if (local.protocol() == endpoint->first.protocol() && !local.isLinkLocal())
                    bound.push_back(Multiaddr::tcp(local, server->serverPort()));
            }
        } else {
            bound.push_back(Multiaddr::tcp(endpoint->first, server->serverPort()));
        }
        m_servers.push_back(std::move(server));
    }
    {
        QMutexLocker locker(&m_host.m_mutex);
        m_host.m_boundAddresses = bound;
    }
    m_sweeper.start(std::chrono::seconds(1));
    return std::nullopt;
}

void Libp2pHostWorker::stop()
{
    m_sweeper.stop();
    m_servers.clear();
    while (!m_connections.empty())
        closeConnection(m_connections.begin()->first, "the host stops");
}

Libp2pStream *Libp2pHostWorker::openStream(const PeerId &peer,
                                           const std::optional<Multiaddr> &preferred,
                                           std::vector<QByteArray> protocols,
                                           std::unique_ptr<StreamHandler> handler)
{
    Libp2pConnection *chosen = nullptr;
    for (const auto &[socket, connection] : m_connections) {
        Libp2pConnection &libp2p = *connection.libp2p;
        if (libp2p.stage() != Libp2pConnection::Stage::Ready || libp2p.remotePeer() != peer)
            continue;
        chosen = &libp2p;
        if (preferred && libp2p.remoteAddress() == *preferred)
            break;
    }
    return chosen ? chosen->openStream(std::move(protocols), std::move(handler)) : nullptr;
}

void Libp2pHostWorker::accept(QTcpServer &server)
{
    while (QTcpSocket *socket = server.nextPendingConnection()) {
        if (int(m_connections.size()) >= m_host.m_options.maxConnections) {
            qCWarning(lcLibp2p, "connection from %s refused: %d connections already",
                      qPrintable(socket->peerAddress().toString()),
                      m_host.m_options.maxConnections);
            socket->abort();
            socket->deleteLater();
            continue;
        }
        socket->setParent(this); // not the server's: connections outlive a closed listener
        socket->setReadBufferSize(socketReadBufferBytes);
        Connection &connection = m_connections[socket];
        connection.socket = socket;
        connection.age.start();
        connection.idle.start();
        Libp2pConnection::Options options;
        options.yamux = m_host.m_options.yamux;
        QPointer<QTcpSocket> guarded(socket);
        connection.libp2p = std::make_unique<Libp2pConnection>(
            Libp2pConnection::Direction::Inbound, m_host.m_identity, m_registry,
            Multiaddr::tcp(socket->peerAddress(), socket->peerPort()),
            [guarded](const QByteArray &bytes) {
                if (guarded && !bytes.isEmpty())
                    guarded->write(bytes);
            },
            options);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { read(socket); });
        connect(socket, &QTcpSocket::bytesWritten, this, [this, socket] {
            const auto it = m_connections.find(socket);
            if (it != m_connections.end() && it->second.readingPaused &&
                socket->bytesToWrite() < maxUnsentBytes / 2) {
                it->second.readingPaused = false;
                read(socket);
            }
        });
        connect(socket, &QTcpSocket::disconnected, this,
                [this, socket] { closeConnection(socket, "the peer closed it"); });
        qCDebug(lcLibp2p, "connection from %s",
                qPrintable(connection.libp2p->remoteAddress().toText()));
        publishCount();
        read(socket); // bytes may have come with the connection
    }
}

void Libp2pHostWorker::read(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    Connection &connection = it->second;
    while (socket->bytesAvailable() > 0) {
        if (socket->bytesToWrite() > maxUnsentBytes) {
            connection.readingPaused = true;
            return;
        }
        connection.idle.restart();
        connection.libp2p->feed(socket->read(socketReadBufferBytes));
        if (connection.libp2p->isClosed()) {
            closeConnection(socket, connection.libp2p->error().constData());
            return;
        }
    }
}

void Libp2pHostWorker::closeConnection(QTcpSocket *socket, const char *why)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    Connection connection = std::move(it->second);
    m_connections.erase(it);
    const auto peer = connection.libp2p->remotePeer();
    qCDebug(lcLibp2p, "connection from %s%s%s closed: %s",
            qPrintable(connection.libp2p->remoteAddress().toText()), peer ? " peer " : "",
            peer ? qPrintable(peer->toText()) : "", why && *why ? why : "closed");
    connection.libp2p->close();
    if (peer && m_host.m_options.connectionClosed)
        m_host.m_options.connectionClosed(*peer, connection.libp2p->remoteAddress());
    socket->disconnect(this);
    socket->disconnectFromHost(); // after what is still queued
    socket->deleteLater();
    publishCount();
}

void Libp2pHostWorker::sweep()
{
    std::vector<std::pair<QTcpSocket *, const char *>> expired;
    for (const auto &[socket, connection] : m_connections) {
        const bool ready = connection.libp2p->stage() == Libp2pConnection::Stage::Ready;
        if (!ready && connection.age.hasExpired(m_host.m_options.handshakeTimeout.count()))
            expired.emplace_back(socket, "handshake timeout");
        else if (ready && connection.libp2p->streamCount() == 0 &&
                 connection.idle.hasExpired(m_host.m_options.idleTimeout.count()) &&
                 !keptIdle(*connection.libp2p))
            expired.emplace_back(socket, "idle timeout");
    }
    for (const auto &[socket, why] : expired)
        closeConnection(socket, why);
}

bool Libp2pHostWorker::keptIdle(const Libp2pConnection &connection) const
{
    const auto peer = connection.remotePeer();
    return peer && m_host.m_options.keepIdleConnection &&
           m_host.m_options.keepIdleConnection(*peer, connection.remoteAddress());
}

void Libp2pHostWorker::publishCount()
{
    QMutexLocker locker(&m_host.m_mutex);
    m_host.m_connections = int(m_connections.size());
}

Libp2pHost::Libp2pHost(const IdentityKey &identity, Options options, QObject *parent)
    : QObject(parent), m_identity(identity),
      m_peerId(PeerId::fromPublicKey(identity.publicKeyProtobuf())), m_options(std::move(options))
{
    m_thread.setObjectName(QStringLiteral("libp2p"));
}

Libp2pHost::~Libp2pHost()
{
    stop();
}

std::optional<QString> Libp2pHost::start()
{
    if (m_worker)
        return QStringLiteral("the libp2p host is already started");
    m_worker = new Libp2pHostWorker(*this);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start();
    std::optional<QString> error;
    runAndWait(m_worker, [this, &error] { error = m_worker->listen(); });
    if (error) {
        stop();
        return error;
    }
    QStringList shown;
    for (const Multiaddr &address : listenAddresses())
        shown << address.toText() + QStringLiteral("/p2p/") + m_peerId.toText();
    qCInfo(lcLibp2p, "libp2p listening on %s", qPrintable(shown.join(QStringLiteral(" "))));
    return std::nullopt;
}

void Libp2pHost::stop()
{
    if (!m_worker)
        return;
    runAndWait(m_worker, [this] {
        m_worker->stop();
        releaseThreadCryptoState();
    });
    m_thread.quit();
    m_thread.wait();
    m_worker = nullptr; // deleted on the thread's way out
}

Libp2pStream *Libp2pHost::openStream(const PeerId &peer, const std::optional<Multiaddr> &preferred,
                                     std::vector<QByteArray> protocols,
                                     std::unique_ptr<StreamHandler> handler)
{
    Q_ASSERT(QThread::currentThread() == &m_thread);
    if (!m_worker)
        return nullptr;
    return m_worker->openStream(peer, preferred, std::move(protocols), std::move(handler));
}

std::vector<Multiaddr> Libp2pHost::listenAddresses() const
{
    QMutexLocker locker(&m_mutex);
    return m_boundAddresses;
}

std::vector<Multiaddr> Libp2pHost::advertisedAddresses() const
{
    return m_options.announce.empty() ? listenAddresses() : m_options.announce;
}

int Libp2pHost::connectionCount() const
{
    QMutexLocker locker(&m_mutex);
    return m_connections;
}
