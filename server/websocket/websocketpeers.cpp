#include "websocketpeers.h"

#include "access/accesscontrol.h"
#include "eventhub.h"
#include "logcategories.h"
#include "presenceservice.h"
#include "textquote.h"
#include "websocket/websocketframes.h"

#include <QTimer>

WebSocketPeers::WebSocketPeers(const Options &options, PresenceService &presence, EventHub &events,
                               AccessControl &access, QObject *parent)
    : QObject(parent), m_options(options), m_presence(presence), m_events(events), m_access(access)
{}

WebSocketPeers::Admission WebSocketPeers::admit(const QByteArray &peerId,
                                                const QHostAddress &client) const
{
    if (!m_presence.lastSeenOf(peerId))
        return Admission::UnknownPeer;
    QMutexLocker locker(&m_mutex);
    // A redial that replaces the peer's own connection from the same address takes no new place.
    const auto current = m_byPeer.constFind(peerId);
    if (current != m_byPeer.cend() && m_connections.value(current.value()).address == client)
        return Admission::Redial;
    if (m_options.maxPerAddress > 0 && m_perAddress.value(client) >= m_options.maxPerAddress)
        return Admission::TooManyFromAddress;
    return Admission::Admitted;
}

void WebSocketPeers::attach(const QByteArray &peerId, const QHostAddress &client,
                            SocketIo::Handle socket, const QByteArray &greeting,
                            const std::shared_ptr<void> &place)
{
    QMutexLocker locker(&m_mutex);
    const quint64 stream = m_events.subscribeWebSocket(socket, greeting, place);
    m_connections.insert(stream, Connection{peerId, client});
    ++m_perAddress[client];
    const auto older = m_byPeer.find(peerId);
    if (older != m_byPeer.end()) {
        m_connections[older.value()].replaced = true;
        m_events.close(older.value(), WebSocketFrames::NormalClosure);
        qCInfo(lcWebSocket, "peer %s reconnected: its older WebSocket is closed",
               goQuoted(peerId).constData());
        older.value() = stream;
    } else {
        m_byPeer.insert(peerId, stream);
        Q_EMIT peerConnectedChanged(peerId, true);
        qCInfo(lcWebSocket, "peer %s on a WebSocket from %s", goQuoted(peerId).constData(),
               qPrintable(client.toString()));
    }
}

void WebSocketPeers::received(quint64 stream, const QByteArray &text)
{
    m_messagesReceived.fetch_add(1, std::memory_order_relaxed);
    QHostAddress client;
    {
        QMutexLocker locker(&m_mutex);
        client = m_connections.value(stream).address;
    }
    // A WebSocket has no answer to give: a publish over a limit is dropped (and counted).
    if (m_access.admitPublishFrom(client)) {
        m_messagesLimited.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    auto parsed = PresenceMessage::parse(text);
    auto *message = std::get_if<PresenceMessage>(&parsed);
    if (!message)
        return;
    if (m_access.admitPublishOf(client, message->peerId)) {
        m_messagesLimited.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    m_presence.publish(std::move(*message));
}

void WebSocketPeers::closed(quint64 stream)
{
    QMutexLocker locker(&m_mutex);
    const Connection connection = m_connections.take(stream);
    if (--m_perAddress[connection.address] <= 0)
        m_perAddress.remove(connection.address);
    if (connection.replaced)
        return;
    m_byPeer.remove(connection.peerId);
    locker.unlock();
    Q_EMIT peerConnectedChanged(connection.peerId, false);
    const std::optional<qint64> lastSeenUs = m_presence.lastSeenOf(connection.peerId);
    if (!lastSeenUs)
        return; // it said offline, or expired: nothing to announce
    qCInfo(lcWebSocket, "peer %s: WebSocket ended; offline unless it is back within %lld ms",
           goQuoted(connection.peerId).constData(),
           static_cast<long long>(m_options.grace.count()));
    QMetaObject::invokeMethod(
        this,
        [this, peerId = connection.peerId, lastSeenUs = *lastSeenUs] {
            QTimer::singleShot(m_options.grace, this,
                               [this, peerId, lastSeenUs] { endGrace(peerId, lastSeenUs); });
        },
        Qt::QueuedConnection);
}

void WebSocketPeers::endGrace(const QByteArray &peerId, qint64 lastSeenUs)
{
    if (isConnected(peerId))
        return; // it redialled
    const std::optional<qint64> now = m_presence.lastSeenOf(peerId);
    if (!now || *now > lastSeenUs)
        return; // gone already, or it published since (through any door or instance)
    PresenceMessage offline;
    offline.type = PresenceMessage::Type::Offline;
    offline.peerId = peerId;
    qCInfo(lcWebSocket, "peer %s did not come back within %lld ms: offline",
           goQuoted(peerId).constData(), static_cast<long long>(m_options.grace.count()));
    m_presence.publish(std::move(offline));
}

bool WebSocketPeers::isConnected(const QByteArray &peerId) const
{
    QMutexLocker locker(&m_mutex);
    return m_byPeer.contains(peerId);
}

bool WebSocketPeers::sendTo(const QByteArray &peerId, const QByteArray &frame)
{
    QMutexLocker locker(&m_mutex);
    const auto found = m_byPeer.constFind(peerId);
    if (found == m_byPeer.cend())
        return false;
    m_events.sendTo(found.value(), frame);
    return true;
}

QByteArrayList WebSocketPeers::connectedPeers() const
{
    QMutexLocker locker(&m_mutex);
    return m_byPeer.keys();
}

int WebSocketPeers::count() const
{
    QMutexLocker locker(&m_mutex);
    return m_connections.size();
}
