#include "rendezvousserver.h"

#include "goopversion.h"
#include "httpworker.h"
#include "libp2p/identitykeyfile.h"
#include "libp2p/libp2phost.h"
#include "libp2p/relay/relaymessages.h"
#include "libp2p/relay/relayservice.h"
#include "libp2p/rendezvous/registrationsjson.h"
#include "libp2p/rendezvous/rendezvouspoint.h"
#include "logcategories.h"
#include "sseframe.h"
#include "websocket/websocketframes.h"

#ifdef GOOP_HAVE_HIREDIS
#include "clusterrendezvous.h"
#include "redisbackplane.h"
#else
// Built without hiredis there is never a backplane (m_backplane stays empty), but its owner
// still needs a complete type to destroy.
class RedisBackplane
{
};
class ClusterRendezvous
{
};
#endif

#include <QEventLoop>
#include <QHostInfo>
#include <QTimer>

namespace {

// Go's net.Listen semantics: no host means every interface, "localhost" the IPv4 loopback.
std::optional<QHostAddress> resolveListenHost(const QString &host)
{
    if (host.isEmpty())
        return QHostAddress(QHostAddress::Any);
    if (host == QLatin1String("localhost"))
        return QHostAddress(QHostAddress::LocalHost);
    QHostAddress address;
    if (address.setAddress(host))
        return address;
    const QHostInfo info = QHostInfo::fromName(host);
    if (info.error() != QHostInfo::NoError || info.addresses().isEmpty())
        return std::nullopt;
    return info.addresses().first();
}

EventHub::Options hubOptions(const ServerConfig &config)
{
    EventHub::Options options;
    options.maxBacklogBytes = config.maxSubscriberBacklogBytes;
    options.maxTotalBacklogBytes = config.maxTotalBacklogBytes;
    options.heartbeat = config.heartbeat;
    options.batchWindow = config.batchWindow;
    options.webSocketPing = config.webSocketPing;
    options.webSocketTimeout = config.webSocketTimeout;
    options.maxMessageBytes = config.maxBodyBytes;
    options.writerThreads = config.threads;
    return options;
}

WebSocketPeers::Options webSocketOptions(const ServerConfig &config)
{
    WebSocketPeers::Options options;
    options.maxPerAddress = config.maxWebSocketsPerAddress;
    options.grace = config.webSocketGrace;
    return options;
}

} // namespace

RendezvousServer::RendezvousServer(const ServerConfig &config, int maxConnections,
                                   const LogSink &logs, QObject *parent)
    : QObject(parent), m_config(config), m_logs(logs), m_budget(maxConnections),
      m_idleConnections(m_budget), m_access(config.access), m_presence(config.peerTtl),
      m_events(
          hubOptions(config), m_budget,
          {[this](quint64 stream, const QByteArray &text) { m_webSockets.received(stream, text); },
           [this](quint64 stream) { m_webSockets.closed(stream); }}),
      m_history(config.history,
                config.redisUrl.isEmpty() ? EventHistory::Order::Own : EventHistory::Order::Cluster,
                m_events),
      m_webSockets(webSocketOptions(config), m_presence, m_events, m_access),
      m_punchHints(
          m_presence,
          [this](const QByteArray &target, const QByteArray &json) { deliverHint(target, json); },
          [this] { return hintsReachAnyone(); }, config.punchCooldown)
{
    // Buckets of clients gone quiet are dropped, so that a flood's memory comes back.
    connect(&m_sweeper, &QTimer::timeout, this, [this] { m_access.sweep(); });
    m_sweeper.start(std::chrono::seconds(30));
    // Queued to this thread: in a cluster the change goes through Redis, whose connection
    // lives here.
    connect(&m_webSockets, &WebSocketPeers::peerConnectedChanged, this,
            &RendezvousServer::markWebSocket, Qt::QueuedConnection);
    // Direct: called in the publishing thread under the presence lock, which keeps the order.
    connect(
        &m_presence, &PresenceService::eventAccepted, this,
        [this](const QByteArray &json, const QByteArray &entryId) {
            m_history.append(json, entryId);
        },
        Qt::DirectConnection);
#ifdef GOOP_HAVE_HIREDIS
    if (!config.redisUrl.isEmpty()) {
        QString error;
        m_backplane =
            std::make_unique<RedisBackplane>(*RedisUrl::parse(config.redisUrl, &error), m_presence);
        connect(m_backplane.get(), &RedisBackplane::resynchronised, this, [this] {
            m_history.restartAt(m_backplane->streamPosition());
            for (const QByteArray &peerId : m_webSockets.connectedPeers())
                markWebSocket(peerId, true);
        });
        connect(m_backplane.get(), &RedisBackplane::hintArrived, this,
                [this](const QByteArray &target, const QByteArray &json) {
                    deliverHintHere(target, json, false);
                });
        // The rendezvous point exists before the first snapshot, which brings its registrations.
        if (!config.libp2pListen.empty()) {
            m_rendezvous = std::make_shared<RendezvousPoint>(m_config.rendezvous);
            m_clusterRendezvous = std::make_unique<ClusterRendezvous>(*m_backplane, *m_rendezvous);
        }
        m_backplane->start();
    }
#endif
}

void RendezvousServer::markWebSocket(const QByteArray &peerId, bool connected)
{
#ifdef GOOP_HAVE_HIREDIS
    // In a cluster the change comes back on the stream for every instance, this one included;
    // a disconnection is not applied here before that, as the peer may be on another instance.
    if (m_backplane && m_backplane->relayWebSocket(peerId, connected)) {
        if (connected)
            m_presence.setWebSocketConnected(peerId, true);
        return;
    }
#endif
    m_presence.setWebSocketConnected(peerId, connected);
}

bool RendezvousServer::hintsReachAnyone() const
{
#ifdef GOOP_HAVE_HIREDIS
    if (m_backplane)
        return true; // other instances' streams
#endif
    return m_events.punchHintAudience() > 0;
}

void RendezvousServer::deliverHint(const QByteArray &target, const QByteArray &json)
{
#ifdef GOOP_HAVE_HIREDIS
    // In a cluster every instance gets it, and the one holding the target's WebSocket sends it.
    if (m_backplane && m_backplane->relayHint(target, json))
        return;
#endif
    deliverHintHere(target, json, true);
}

void RendezvousServer::deliverHintHere(const QByteArray &target, const QByteArray &json, bool alone)
{
    if (m_webSockets.sendTo(target, WebSocketFrames::text(json)))
        return;
    // To everyone, as the current server does. In a cluster a target on a WebSocket elsewhere
    // gets it from the instance that holds it; for one on none, each instance sends it to its
    // own event streams.
    if (alone)
        m_events.broadcastEvent(json, EventHub::Content::PunchHint);
    else if (!m_presence.isOnWebSocket(target))
        m_events.broadcast(SseFrame::data(json), {}, EventHub::Content::PunchHint);
}

RendezvousServer::~RendezvousServer()
{
    m_libp2p.reset();             // its thread ends here
    m_idleConnections.closeAll(); // before the workers it hands connections back to
    m_workers.clear();            // before the services they use
    m_backplane.reset();
    // The writers still close streams, and tell m_webSockets of each, which goes before them.
    m_events.stopWriters();
}

bool RendezvousServer::waitForCluster(std::chrono::milliseconds timeout)
{
#ifdef GOOP_HAVE_HIREDIS
    if (!m_backplane || m_backplane->isConnected())
        return true;
    QEventLoop loop;
    connect(m_backplane.get(), &RedisBackplane::connectedChanged, &loop, &QEventLoop::quit);
    connect(this, &RendezvousServer::stopped, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeout, &loop, &QEventLoop::quit);
    loop.exec();
    return m_backplane->isConnected();
#else
    Q_UNUSED(timeout);
    return true;
#endif
}

std::optional<QString> RendezvousServer::listen()
{
    const auto address = resolveListenHost(m_config.host);
    if (!address)
        return QStringLiteral("cannot listen on %1: unknown host")
            .arg(m_config.listenAddressText());
    if (const auto libp2pError = startLibp2p())
        return libp2pError;
    QString error;
    const std::vector<SocketIo::Handle> sockets =
        openListeningSockets(*address, m_config.port, m_config.threads, &m_port, &error);
    if (sockets.empty())
        return QStringLiteral("cannot listen on %1: %2").arg(m_config.listenAddressText(), error);

    ConnectionGuard::Limits limits;
    limits.maxHeaderBytes = m_config.maxHeaderBytes;
    limits.maxBodyBytes = m_config.maxBodyBytes;
    limits.requestTimeout = m_config.requestTimeout;
    limits.idleTimeout = m_config.idleTimeout;
    const ApiServer::Services services{
        m_presence,  m_events,        m_history,   m_webSockets, m_access,
        m_budget,    m_logs,          m_dashboard, m_metrics,    [this] { return gauges(); },
        relayJson(), rendezvousJson()};
    for (const SocketIo::Handle socket : sockets)
        m_workers.push_back(
            std::make_unique<HttpWorker>(socket, limits, m_idleConnections, services));
    m_address = *address;
    qCInfo(lcApp,
           "listening on %s (%d HTTP threads, up to %d connections; event streams sent "
           "with %s)",
           qPrintable(url()), int(sockets.size()), m_budget.max(),
           qPrintable(m_events.sendMethod()));
    return std::nullopt;
}

std::optional<QString> RendezvousServer::startLibp2p()
{
    if (m_config.libp2pListen.empty())
        return std::nullopt;
    QString error;
    const auto key = IdentityKeyFile::loadOrCreate(m_config.libp2pKeyFile, &error);
    if (!key)
        return error;
    Libp2pHost::Options options;
    options.listen = m_config.libp2pListen;
    options.announce = m_config.libp2pAnnounce;
    options.agentVersion = QByteArrayLiteral("goop-rendezvous/" GOOP_VERSION);
    options.maxConnections = m_config.libp2pMaxConnections;
    if (m_config.libp2pRelay) {
        m_relay = std::make_shared<RelayService>(*key, m_config.relayLimits);
        options.protocols.emplace_back(RelayMessages::hopProtocolId, m_relay->hopFactory());
        const std::shared_ptr<RelayService> relay = m_relay;
        options.connectionClosed = [relay](const PeerId &peer, const Multiaddr &remote) {
            relay->connectionClosed(peer, remote);
        };
        options.keepIdleConnection = [relay](const PeerId &peer, const Multiaddr &remote) {
            return relay->holdsReservation(peer, remote);
        };
    }
    if (!m_rendezvous)
        m_rendezvous = std::make_shared<RendezvousPoint>(m_config.rendezvous);
    options.protocols.emplace_back(RendezvousPoint::protocolId, m_rendezvous->handlerFactory());
    m_libp2p = std::make_unique<Libp2pHost>(*key, options);
    if (m_relay)
        m_relay->setHost(m_libp2p.get());
    if (auto startError = m_libp2p->start()) {
        m_libp2p.reset();
        m_relay.reset();
        m_clusterRendezvous.reset();
        m_rendezvous.reset();
        return startError;
    }
    return std::nullopt;
}

QByteArray RendezvousServer::relayJson() const
{
    if (m_config.relay)
        return m_config.relay->json();
    if (!m_relay || !m_libp2p)
        return {};
    RelayInfo info;
    info.peerId = m_libp2p->peerId().toText();
    for (const Multiaddr &address : m_libp2p->advertisedAddresses())
        info.addrs.append(address.toText());
    return info.json();
}

std::function<QByteArray()> RendezvousServer::rendezvousJson() const
{
    if (!m_rendezvous)
        return {};
    return [rendezvous = m_rendezvous] { return RegistrationsJson::render(rendezvous->store()); };
}

QString RendezvousServer::url() const
{
    QString host = m_address.toString();
    if (m_address == QHostAddress(QHostAddress::Any))
        host = QStringLiteral("0.0.0.0");
    else if (m_address.protocol() == QAbstractSocket::IPv6Protocol)
        host = QLatin1Char('[') + host + QLatin1Char(']');
    return QStringLiteral("http://%1:%2").arg(host).arg(m_port);
}

void RendezvousServer::stop()
{
    m_stopped = true;
    Q_EMIT stopped();
#ifdef GOOP_HAVE_HIREDIS
    if (m_backplane)
        m_backplane->flush(); // sent during the closing grace, while the event loop still runs
#endif
    for (const auto &worker : m_workers)
        worker->stopListening();
    if (m_libp2p)
        m_libp2p->stop();
    m_events.closeAll();
    m_idleConnections.closeAll(); // as Go's Shutdown closes idle connections at once
}

ServerMetrics::Gauges RendezvousServer::gauges() const
{
    ServerMetrics::Gauges gauges;
    const PresenceService::Counts counts = m_presence.counts();
    gauges.peersOnline = counts.online;
    gauges.peersUpdate = counts.update;
    gauges.expiries = qint64(counts.expiries); // + the cluster's, below
    gauges.webSockets = m_events.webSocketCount();
    gauges.subscribers = m_events.subscriberCount() - gauges.webSockets;
    gauges.subscribersDropped = m_events.droppedCount(EventHub::Kind::EventStream);
    gauges.eventsDelivered = m_events.deliveredCount(EventHub::Kind::EventStream);
    gauges.backlogBytes = m_events.backlogBytes();
    gauges.maxBacklogBytes = m_config.maxTotalBacklogBytes;
    gauges.history = m_history.stats();
    gauges.webSocketsDropped = m_events.droppedCount(EventHub::Kind::WebSocket);
    gauges.webSocketFramesSent = m_events.deliveredCount(EventHub::Kind::WebSocket);
    gauges.webSocketMessagesReceived = m_webSockets.messagesReceived();
    gauges.punchHints = qint64(m_punchHints.sentCount());
    gauges.access = m_access.counts();
    gauges.webSocketMessagesLimited = m_webSockets.messagesLimited();
    gauges.connections = m_budget.inUse();
    gauges.idleConnectionsParked = m_idleConnections.parkedCount();
    gauges.maxConnections = m_budget.max();
    if (m_rendezvous) {
        ServerMetrics::Gauges::Rendezvous rendezvous;
        const RegistrationStore::Counts held = m_rendezvous->store().counts();
        rendezvous.registrations = held.registrations;
        rendezvous.namespaces = held.namespaces;
        const RendezvousPoint::Stats stats = m_rendezvous->stats();
        rendezvous.registers = stats.registers;
        rendezvous.unregisters = stats.unregisters;
        rendezvous.discovers = stats.discovers;
        for (const auto &[status, count] : stats.refusals)
            rendezvous.refusals.emplace_back(RendezvousPoint::statusName(status), count);
        gauges.rendezvous = rendezvous;
    }
    if (m_libp2p) {
        ServerMetrics::Gauges::Libp2p libp2p;
        libp2p.connections = m_libp2p->connectionCount();
        if (m_relay)
            libp2p.relay = m_relay->stats();
        gauges.libp2p = libp2p;
    }
#ifdef GOOP_HAVE_HIREDIS
    if (m_backplane) {
        gauges.cluster = m_backplane->gauges();
        gauges.expiries += qint64(gauges.cluster->expired);
    }
#endif
    return gauges;
}
