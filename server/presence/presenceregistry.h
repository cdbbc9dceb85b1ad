#pragma once

#include "idindex.h"
#include "presencemessage.h"

#include <QByteArray>
#include <QHash>
#include <QSet>

#include <limits>
#include <memory>
#include <optional>
#include <vector>

// The peers that are online, in the order /peers.json lists them: `online` rows first, then
// `update` rows, each group most recently seen first. Every publish moves its peer to the
// front of its group, so the order is kept without sorting, and the least recently seen peer
// (the next to expire) is always at the back of a group.
//
// Memory matters (100,000 peers on a small VPS): each peer is one allocation holding its
// fields already JSON-escaped, indexed by its own escaped ID (IdIndex); rows and the
// /peers.json body are built from them only when asked for.
class PresenceRegistry
{
    struct Peer;

public:
    enum class Change
    {
        Registered,
        Refreshed,
        Removed,
        NothingToRemove
    };

    // Where a stored row goes inside its group. A publish accepted here is the newest there is;
    // a row learnt from other instances goes by its last_seen, so that every instance of a
    // cluster lists the same rows in the same order whatever order they arrived in.
    enum class Placement
    {
        Newest,
        ByLastSeen
    };

    // One stored peer as a message again (for resynchronising a cluster).
    struct Row
    {
        PresenceMessage message;
        qint64 lastSeenUs = 0;
        bool own = false; // its latest publish was accepted by this instance
    };

    PresenceRegistry();
    ~PresenceRegistry();
    PresenceRegistry(const PresenceRegistry &) = delete;
    PresenceRegistry &operator=(const PresenceRegistry &) = delete;

    // Applies an accepted message. `lastSeenMs` is the server's wall clock (reported as
    // last_seen), `monotonicMs` the clock expiry is measured on.
    Change apply(const PresenceMessage &message, qint64 lastSeenMs, qint64 monotonicMs)
    {
        return applyAt(message, lastSeenMs * 1000, monotonicMs, Placement::Newest, true);
    }
    // The same with the wall clock in microseconds: last_seen is still reported in ms, the finer
    // clock orders rows that several instances of a cluster stamped within one millisecond.
    Change applyAt(const PresenceMessage &message, qint64 lastSeenUs, qint64 monotonicMs,
                   Placement placement, bool own);

    // Whether extra members may hold `addrs` (a cheap look for the key, in any case).
    static bool mayHoldAddresses(QByteArrayView extraMembers);
    // The `addrs` a stored peer sent, in its order; empty when it sent none.
    QList<QByteArray> addressesOf(const QByteArray &peerId) const;
    // Every stored peer that sent addrs, with them.
    QList<std::pair<QByteArray, QList<QByteArray>>> peersWithAddresses() const;

    // The stored last_seen (µs) of a peer, if it is stored.
    std::optional<qint64> lastSeenOf(const QByteArray &peerId) const;

    // Whether an event stamped `lastSeenUs` (an `offline` stamped with the last_seen it ends)
    // is news here: an `online`/`update` newer than the row and than the peer's last departure,
    // an `offline` no older than the row and newer than the last departure. Events that
    // several instances of a cluster accepted reach each instance in different orders; this is
    // what makes every instance end with the newest.
    bool isNews(const QByteArray &peerId, qint64 lastSeenUs, PresenceMessage::Type type) const;

    // Forgets the departures (offline or expiry) stamped before `lastSeenUs`.
    void forgetDeparturesBefore(qint64 lastSeenUs);
    qsizetype departureCount() const { return m_departures.size(); }

    QList<Row> rows() const;

    // Removes the peers last seen before `monotonicCutoffMs`, at most `most` of them, and returns
    // their IDs, oldest first.
    QList<QByteArray> removeSeenBefore(qint64 monotonicCutoffMs,
                                       qsizetype most = std::numeric_limits<qsizetype>::max());

    // When the least recently seen peer was seen (monotonic ms), if there is any peer.
    std::optional<qint64> oldestSeen() const;

    // Whether the peer is on a WebSocket here: its row then says "ws_connected":true.
    void setWebSocketConnected(const QByteArray &peerId, bool connected);
    bool isOnWebSocket(const QByteArray &peerId) const;
    // Exactly these peers are on a WebSocket (a cluster's snapshot).
    void setWebSocketPeers(const QSet<QByteArray> &peerIds);

    // The rows of /peers.json as they are now, held so that they can be written out without
    // the lock that guards the registry: a peer replaced or removed meanwhile stays readable
    // until the listing lets go of it. 50,000 peers make 6 MB of JSON; publishes need not wait
    // for that.
    class Listing
    {
    public:
        Listing() = default;
        Listing(Listing &&other) noexcept;
        Listing &operator=(Listing &&other) noexcept;
        ~Listing();
        // The /peers.json body; safe from any thread, with or without the registry's lock.
        QByteArray toJson() const;

    private:
        friend class PresenceRegistry;
        std::vector<const Peer *> m_peers; // each held (Peer::holders)
        std::vector<bool> m_onWebSocket;
    };
    Listing listing() const;

    // The /peers.json body built for the rows as of `version`, kept until they change (copies
    // are cheap); empty when stale.
    QByteArray cachedPeersJson() const { return m_peersJson; }
    quint64 version() const { return m_version; }
    void cachePeersJson(quint64 version, const QByteArray &json);
    QByteArray peersJson(); // built and cached here, under the caller's lock

    qsizetype size() const { return m_index.size(); }
    // How many peers' last message was of `type` (online or update).
    qsizetype countOf(PresenceMessage::Type type) const
    {
        return type == PresenceMessage::Type::Online ? m_online.count : m_updated.count;
    }

private:
    struct Group
    {
        Peer *newest = nullptr;
        Peer *oldest = nullptr;
        qsizetype count = 0;
    };

    Group &groupFor(PresenceMessage::Type type);
    void unlink(Peer *peer);
    void pushFront(Group &group, Peer *peer);
    void insertByLastSeen(Group &group, Peer *peer);
    void remove(Peer *peer, qint64 departedUs);

    Group m_online;
    Group m_updated;
    IdIndex<Peer> m_index;                  // by the escaped ID each peer holds
    QHash<QByteArray, qint64> m_departures; // escaped ID -> last_seen (µs) of its last departure
    QSet<QByteArray> m_onWebSocket;         // escaped IDs
    QByteArray m_peersJson;                 // empty when stale
    quint64 m_version = 0;                  // of the rows: grows with every change
    void changed()
    {
        m_peersJson.clear();
        ++m_version;
    }
};
