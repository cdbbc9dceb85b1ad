#pragma once

#include "socketio.h"

#include <QByteArray>
#include <QByteArrayList>
#include <QHash>
#include <QHostAddress>
#include <QMutex>
#include <QObject>

#include <atomic>
#include <chrono>
#include <memory>

class AccessControl;
class EventHub;
class PresenceService;

// The peers on a WebSocket (PROTOCOL.md, "GET /ws"): which peers may connect, one connection
// per peer (a second replaces the first, and the replaced one announces nothing), a cap per
// client address, the text frames they send (publishes, under the same per-client limits as
// POST /publish), and what their connections' end means. Where the current server announces
// `offline` at once whenever a connection ends (so peers flap on every reconnect), a peer here is
// announced gone only when it has neither come back nor published within a grace period; it stays
// known meanwhile, so that its redial is admitted at once.
//
// Thread-safe: HTTP threads admit and attach, writer threads report frames and ends; the grace
// timers run in the thread the object lives in.
class WebSocketPeers : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        int maxPerAddress = 1000; // 0: no cap
        std::chrono::milliseconds grace{8000};
    };

    WebSocketPeers(const Options &options, PresenceService &presence, EventHub &events,
                   AccessControl &access, QObject *parent = nullptr);

    enum class Admission
    {
        Admitted,
        Redial,            // the peer's own connection from the same client, to be replaced
        UnknownPeer,       // 425: it must publish first
        TooManyFromAddress // 429
    };
    Admission admit(const QByteArray &peerId, const QHostAddress &client) const;

    // Takes over an upgraded connection (`greeting`: the 101 answer) from `client` for
    // `peerId`, replacing the peer's older connection, if any, without a word to anyone else.
    // `place` (the client's place for a stream) is held until the connection ends.
    void attach(const QByteArray &peerId, const QHostAddress &client, SocketIo::Handle socket,
                const QByteArray &greeting, const std::shared_ptr<void> &place);

    // From the event hub's writers: a text frame (handled like a POST /publish body; an invalid
    // one is dropped silently), and the end of a connection.
    void received(quint64 stream, const QByteArray &text);
    void closed(quint64 stream);

    bool isConnected(const QByteArray &peerId) const;
    QByteArrayList connectedPeers() const;
    // Sends `frame` to the peer's WebSocket; false when it has none here.
    bool sendTo(const QByteArray &peerId, const QByteArray &frame);
    int count() const;
    qint64 messagesReceived() const { return m_messagesReceived.load(); }
    qint64 messagesLimited() const { return m_messagesLimited.load(); }

Q_SIGNALS:
    // A peer got its first WebSocket here, or lost its last one (a replacement is neither).
    // Emitted in the thread that saw it; the receiver marks the peer's row (in a cluster, for
    // every instance).
    void peerConnectedChanged(const QByteArray &peerId, bool connected);

private:
    struct Connection
    {
        QByteArray peerId;
        QHostAddress address;
        bool replaced = false;
    };

    // After the grace period: `offline` for a peer that has not come back or published since
    // its connection ended (its last_seen then was `lastSeenUs`).
    void endGrace(const QByteArray &peerId, qint64 lastSeenUs);

    const Options m_options;
    PresenceService &m_presence;
    EventHub &m_events;
    AccessControl &m_access;
    mutable QMutex m_mutex;
    QHash<quint64, Connection> m_connections; // by stream id; guarded by m_mutex
    QHash<QByteArray, quint64> m_byPeer;      // the current connection; guarded by m_mutex
    QHash<QHostAddress, int> m_perAddress;    // guarded by m_mutex
    std::atomic<qint64> m_messagesReceived{0};
    std::atomic<qint64> m_messagesLimited{0};
};
