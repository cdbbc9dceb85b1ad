#pragma once

#include "peerlogbudget.h"
#include "presenceregistry.h"
#include "publishsequencer.h"

#include <QElapsedTimer>
#include <QMutex>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <chrono>

// The presence state of the network: applies accepted publishes, expires silent peers, and
// announces every change as one line of JSON. It knows nothing of HTTP or sockets, nor of
// Redis: a cluster backplane orders publishes (PublishSequencer), feeds it what the cluster
// accepted through applyReplicated() and resynchronise(), and learns of the publishes applied
// here while it could not order them through publishedLocally().
//
// publish() and peersJson() may be called from any thread. Expiry and the replication entry
// points run in the thread the service lives in.
class PresenceService : public QObject
{
    Q_OBJECT

public:
    using Row = PresenceRegistry::Row;

    explicit PresenceService(std::chrono::milliseconds peerTtl, QObject *parent = nullptr);

    // Stores a validated message (a zero `ts` becomes the server's time) and announces it.
    // With a sequencer that takes it, that happens later, when the cluster has ordered it:
    // then publish() returns true and `applied` is called once it is done (in the sequencer's
    // thread). Otherwise it is done before publish() returns false, and `applied` is not used.
    bool publish(PresenceMessage message, std::function<void()> applied = {});

    // Publishes go to `sequencer` first from now on (null: no more); it must outlive that.
    void setSequencer(PublishSequencer *sequencer);
    // Whether publish() may answer later (a sequencer is set); when not, callers need not
    // prepare for it.
    bool ordersPublishes() const { return m_sequencer.load() != nullptr; }

    // Applies a publish the sequencer took but could not get ordered (the cluster went away),
    // as publish() would have, stamped `lastSeenUs`, unless something newer for the peer is
    // here already; not reported through publishedLocally().
    void applyHeld(const PresenceMessage &message, qint64 lastSeenUs);

    QByteArray peersJson();
    // Calls `fn` with the state locked: no event is accepted meanwhile, so what it starts sees
    // the state as of the last event and every event after it. `rowEvents` gives the peers
    // online now as the events that last announced them.
    void
    whileLocked(const std::function<void(const std::function<QList<QByteArray>()> &rowEvents)> &fn);
    qsizetype peerCount() const;
    // When the peer was last seen (wall clock, µs), if it is online.
    std::optional<qint64> lastSeenOf(const QByteArray &peerId) const;
    // The addrs peers sent (PresenceRegistry::addressesOf, ::peersWithAddresses).
    QList<QByteArray> addressesOf(const QByteArray &peerId) const;
    void setWebSocketConnected(const QByteArray &peerId, bool connected);
    void setWebSocketPeers(const QSet<QByteArray> &peerIds);
    bool isOnWebSocket(const QByteArray &peerId) const; // here, or with --redis anywhere
    QList<std::pair<QByteArray, QList<QByteArray>>> peersWithAddresses() const;

    struct Counts
    {
        qsizetype online = 0; // peers whose last message was `online`
        qsizetype update = 0; // … `update`
        quint64 expiries = 0; // peers this instance removed for their silence
    };
    Counts counts() const;
    qint64 peerTtlMs() const { return m_peerTtlMs; }

    // An event the cluster accepted (`jsonLine` is its exact text, announced as it is), with
    // its last_seen (for an expiry: that of the row it ends) and its place in the cluster's
    // order (`entryId`, its stream entry). Stored and announced only if it is news
    // (PresenceRegistry::isNews); returns whether it was.
    // `origin` only decides how it is logged.
    enum class Origin
    {
        ThisInstance,
        OtherInstance
    };
    bool applyReplicated(const PresenceMessage &message, qint64 lastSeenUs,
                         const QByteArray &jsonLine, const QByteArray &entryId, Origin origin);

    // How a snapshot of the cluster's state is taken in.
    enum class Resync
    {
        // The cluster kept its state (an instance joining, or a connection that came back): the
        // snapshot is the truth, except for this instance's own rows that are newer than it.
        Replace,
        // The cluster lost its state (Redis restarted empty): the union of both, so that the
        // instances can rebuild it and no subscriber sees a peer leave and come back.
        Merge
    };

    // Takes in the cluster's `snapshot`, announcing the differences (an `offline` for each peer
    // that is gone, the row for each new or changed one) so that subscribers stay right. An
    // `offline` row in it is a recent departure: it removes an older row here whatever the mode.
    // Returns the rows this instance has and the cluster lacks (or has older), to be sent to it
    // again.
    QList<Row> resynchronise(const QList<Row> &snapshot, Resync mode);

    // The state is shared with other instances: this instance's publishes are then placed
    // like the others' (by last_seen, then ID), so that every instance lists the same order.
    // Alone, a publish simply goes in front, whatever the wall clock does.
    void setShared();

    // Who removes silent peers.
    enum class Expiry
    {
        Here, // no cluster: after the peer TTL
        // A cluster is followed: expiry is its business (exactly one `offline` for the whole
        // cluster); the service only says when peers are due, through expiryDue().
        Delegated,
        // A cluster is configured but away (Redis down): this instance hears only its share of
        // the heartbeats, so a peer silent here may be heard elsewhere. It goes only after
        // awayExpiryFactor peer TTLs, and the cluster expires the rest once it is back.
        ClusterAway
    };
    static constexpr int awayExpiryFactor = 6;
    void setExpiry(Expiry expiry);

Q_SIGNALS:
    // Every accepted message and every expiry, with its cluster stream entry when the cluster
    // ordered it (else empty). Emitted in the publishing thread while the state is locked, so
    // that receivers see events in the order they were accepted: connect with
    // Qt::DirectConnection and return quickly.
    void eventAccepted(const QByteArray &jsonLine, const QByteArray &entryId);

    // Every publish accepted by this instance, as stored, with its last_seen in µs; emitted like
    // eventAccepted (direct, under the lock: acceptance order).
    void publishedLocally(const PresenceMessage &message, qint64 lastSeenUs);

    // A publish accepted by this instance gave the peer addrs it did not have (as a set), or it
    // is new with addrs: the moment for punch hints. Emitted like eventAccepted.
    void addressesChanged(const QByteArray &peerId);

    // With delegated expiry: the peers last seen at or before `cutoffUs` (wall clock) are stale.
    void expiryDue(qint64 cutoffUs);

private:
    void expireSilentPeers();
    void scheduleExpiry();
    void scheduleExpiryLocked();
    void applyLocally(const PresenceMessage &message, qint64 nowUs, bool report);
    // Applies an accepted message to the registry, and says so when its addrs changed.
    PresenceRegistry::Change applyAndWatchAddresses(const PresenceMessage &message,
                                                    qint64 lastSeenUs, qint64 monotonicMs,
                                                    PresenceRegistry::Placement placement,
                                                    bool own);
    qint64 expiryLimitMs() const; // the silence after which a peer is removed here
    void logChangeLocked(PresenceRegistry::Change change, const PresenceMessage &message,
                         Origin origin);
    // Whether a line about one peer may be written now (PeerLogBudget); tells what an earlier
    // second held back first.
    bool mayLogPeerLocked(PeerLogBudget::Kind kind);
    void logHeldBackLocked();
    void logHeldBack();
    void forgetOldDeparturesLocked(qint64 nowUs);
    qint64 monotonicFor(qint64 lastSeenUs, qint64 nowUs) const;

    const qint64 m_peerTtlMs;
    mutable QMutex m_mutex;
    PresenceRegistry m_registry;
    QElapsedTimer m_clock;
    bool m_expiryScheduled = false; // guarded by m_mutex
    quint64 m_expiries = 0;         // guarded by m_mutex
    PresenceRegistry::Placement m_localPlacement = PresenceRegistry::Placement::Newest; // ditto
    std::atomic<PublishSequencer *> m_sequencer{nullptr};
    qsizetype m_departuresPruneAt = 1024; // guarded by m_mutex
    Expiry m_expiry = Expiry::Here;       // only touched in the service's thread
    QTimer m_expiryTimer;
    PeerLogBudget m_logBudget;        // guarded by m_mutex
    bool m_heldBackScheduled = false; // guarded by m_mutex
    QTimer m_heldBackTimer;           // tells what the budget held back when nothing else does
};
