#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QObject>

#include <atomic>
#include <chrono>
#include <functional>

class PresenceService;

// Hole-punching coordination (PROTOCOL.md, "Punch hints"): when a peer arrives with addrs, or
// its addrs change, it and every other peer with addrs learn each other's, at most once per pair
// per cooldown. Where a hint goes (the target's WebSocket, else everyone; across a cluster) is
// the caller's `deliver`; hints are never stored.
class PunchHints : public QObject
{
    Q_OBJECT

public:
    // Takes one hint (a line of JSON) to `target`.
    using Deliver = std::function<void(const QByteArray &target, const QByteArray &json)>;
    // Whether a hint would reach anyone now. When not (only observers, who opt out), none is
    // made: N peers arriving make N² of them, seconds of work for nobody.
    using Audience = std::function<bool()>;

    PunchHints(PresenceService &presence, Deliver deliver, Audience anyoneListens,
               std::chrono::milliseconds cooldown = std::chrono::seconds(60),
               QObject *parent = nullptr);

    quint64 sentCount() const { return m_sent.load(std::memory_order_relaxed); }

    // The hint for `target` about `peerId` and its addrs (`addrsJson`: a JSON array).
    static QByteArray hint(const QByteArray &peerId, const QByteArray &target,
                           const QByteArray &addrsJson, qint64 nowMs);

private:
    void peerAddressesChanged(const QByteArray &peerId);
    void deliver(const QByteArray &target, const QByteArray &json);

    PresenceService &m_presence;
    const Deliver m_deliver;
    const Audience m_anyoneListens;
    const qint64 m_cooldownMs;
    QElapsedTimer m_clock;
    QHash<QByteArray, qint64> m_lastHint; // by pair ("A\nB", sorted) -> m_clock ms
    qint64 m_nextSweepMs = 0;
    std::atomic<quint64> m_sent{0}; // read by /metrics in other threads
};
