#pragma once

#include "presencemessage.h"

#include <QByteArray>
#include <QHash>

#include <memory>
#include <optional>

// The peers that are online, in the order /peers.json lists them: `online` rows first, then
// `update` rows, each group most recently seen first. Every publish moves its peer to the
// front of its group, so the order is kept without sorting, and the least recently seen peer
// (the next to expire) is always at the back of a group.
//
// Memory matters (100,000 peers on a small VPS): each peer is one allocation holding its
// fields already JSON-escaped, indexed by a view of its own escaped ID; rows and the
// /peers.json body are built from them only when asked for.
class PresenceRegistry
{
public:
    enum class Change
    {
        Registered,
        Refreshed,
        Removed,
        NothingToRemove
    };

    PresenceRegistry();
    ~PresenceRegistry();
    PresenceRegistry(const PresenceRegistry &) = delete;
    PresenceRegistry &operator=(const PresenceRegistry &) = delete;

    // Applies an accepted message. `lastSeenMs` is the server's wall clock (reported as
    // last_seen), `monotonicMs` the clock expiry is measured on.
    Change apply(const PresenceMessage &message, qint64 lastSeenMs, qint64 monotonicMs);

    // Removes the peers last seen before `monotonicCutoffMs` and returns their IDs, oldest first.
    QList<QByteArray> removeSeenBefore(qint64 monotonicCutoffMs);

    // When the least recently seen peer was seen (monotonic ms), if there is any peer.
    std::optional<qint64> oldestSeen() const;

    // The /peers.json body, built once per change and shared (copies are cheap).
    QByteArray peersJson();

    qsizetype size() const { return m_index.size(); }

private:
    struct Peer;
    struct Group
    {
        Peer *newest = nullptr;
        Peer *oldest = nullptr;
    };

    Group &groupFor(PresenceMessage::Type type);
    void unlink(Peer *peer);
    void pushFront(Group &group, Peer *peer);
    void remove(Peer *peer);

    Group m_online;
    Group m_updated;
    QHash<QByteArrayView, Peer *> m_index; // keyed by the escaped ID each peer holds
    QByteArray m_peersJson;                // empty when stale
};
