#pragma once

#include "presencemessage.h"

#include <QByteArray>
#include <QHash>

#include <list>
#include <optional>

// The peers that are online, in the order /peers.json lists them: `online` rows first, then
// `update` rows, each group most recently seen first. Every publish moves its peer to the
// front of its group, so the order is kept without sorting and the least recently seen peer
// (the next to expire) is always at the back of a group.
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

    // Applies an accepted message. `lastSeenMs` is the server's wall clock (reported as
    // last_seen), `monotonicMs` the clock expiry is measured on.
    Change apply(const PresenceMessage &message, qint64 lastSeenMs, qint64 monotonicMs);

    // Removes the peers last seen before `monotonicCutoffMs` and returns their IDs, oldest first.
    QList<QByteArray> removeSeenBefore(qint64 monotonicCutoffMs);

    // When the least recently seen peer was seen (monotonic ms), if there is any peer.
    std::optional<qint64> oldestSeen() const;

    // The /peers.json body, built once per change.
    const QByteArray &peersJson();

    qsizetype size() const { return m_index.size(); }

private:
    struct Peer
    {
        QByteArray peerId;
        QByteArray row; // this peer's /peers.json row
        qint64 seenMonotonicMs = 0;
    };
    using Group = std::list<Peer>;
    struct Location
    {
        Group *group;
        Group::iterator position;
    };

    Group &groupFor(PresenceMessage::Type type);
    void remove(const QByteArray &peerId);

    Group m_online;
    Group m_updated;
    QHash<QByteArray, Location> m_index;
    QByteArray m_peersJson;
    bool m_peersJsonStale = true;
};
