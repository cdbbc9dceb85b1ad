#include "websocketpeers.h"

#include "eventhub.h"
#include "logcategories.h"
#include "presenceservice.h"
#include "textquote.h"
#include "websocket/websocketframes.h"

#include <QTimer>

WebSocketPeers::WebSocketPeers(const Options &options, PresenceService &presence, EventHub &events,
                               QObject *parent)
    : QObject(parent), m_options(options), m_presence(presence), m_events(events)
{}

WebSocketPeers::Admission WebSocketPeers::admit(const QByteArray &peerId,
                                                const QHostAddress &address) const
{
    if (!m_presence.lastSeenOf(peerId))
        return Admission::UnknownPeer;
    QMutexLocker locker(&m_mutex);
    // A redial that replaces the peer's own connection from the same address takes no new place.
    const auto current = m_byPeer.constFind(peerId);
    const bool replacesOwn =
        current != m_byPeer.cend() && m_connections.value(current.value()).address == address;
    if (m_options.maxPerAddress > 0 && !replacesOwn &&
        m_perAddress.value(address) >= m_options.maxPerAddress)
        return Admission::TooManyFromAddress;
    return Admission::Admitted;
}

void WebSocketPeers::attach(const QByteArray &peerId, const QHostAddress &address,
                            SocketIo::Handle socket, const QByteArray &greeting)
{
    QMutexLocker locker(&m_mutex);
    const quint64 stream = m_events.subscribeWebSocket(socket, greeting);
    m_connections.insert(stream, Connection{peerId, address});
    ++m_perAddress[address];
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
               qPrintable(address.toString()));
    }
}

void WebSocketPeers::received(quint64, const QByteArray &text)
{
    m_messagesReceived.fetch_add(1, std::memory_order_relaxed);
    auto parsed = PresenceMessage::parse(text);
    if (auto *message = std::get_if<PresenceMessage>(&parsed))
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
