#pragma once

#include "eventid.h"
#include "streamwriter.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QThread>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

class EventHub;

// The recent events of /events, by ID, so that a subscriber that reconnects with the last ID it
// got (Last-Event-ID) gets every event after it and then the live stream, with no gap and no
// duplicate; and the way to start from a snapshot of the peers instead (snapshot=1, or an ID the
// history does not reach back to), equally gapless.
//
// Every accepted event passes through append(), which gives it its ID, keeps its frame and
// broadcasts it under one lock: a subscriber added under that lock gets exactly the events
// after the ones it was given. Frames are kept in blocks of about 64 KiB that replays share with
// the streams (no copy per subscriber); the history is bounded by count, age and bytes.
//
// A full block is compressed by a thread of the history's own, at idle priority and off the
// locks publishes wait for: event frames shrink about four times (8.6 MB of 50,000 registrations
// to 1.95 MB). A replay hands the compressed block to the stream writer, which inflates it when
// the stream gets to it.
//
// Lock order: the presence lock (append() is called under it), then this one, then the hub's.
class EventHistory
{
public:
    struct Options
    {
        qsizetype maxEvents = 50000;
        std::chrono::milliseconds maxAge{std::chrono::minutes(5)};
        qint64 maxBytes = 64 * 1024 * 1024;
    };
    enum class Order
    {
        Own,    // a server alone: IDs are its start time and a count
        Cluster // IDs are the cluster's stream entries; events without one are local
    };

    EventHistory(const Options &options, Order order, EventHub &hub);
    ~EventHistory();

    // One accepted event, in acceptance order, with its cluster stream entry ID if it has one:
    // numbered, kept and broadcast (`webSocketFrame` goes to WebSockets; built here when empty).
    void append(const QByteArray &jsonLine, QByteArrayView clusterId = {});
    // The cluster's order goes on from `clusterId` (a snapshot of it was loaded there): IDs in it
    // before that can no longer be resumed here, as this instance did not send what came between.
    void restartAt(QByteArrayView clusterId);

    struct Subscriber
    {
        SocketIo::Handle socket = SocketIo::invalidHandle;
        QByteArray greeting; // the response head and `: ok`
        std::shared_ptr<void> place;
        bool punchHints = true; // false: an observer's stream (`/events?punch=0`)
    };
    struct Resumption
    {
        enum class Kind
        {
            Resumed, // subscribed, the missed events first
            Waiting, // a cluster ID this instance has not read yet: subscribed once it has
            Lost     // the history does not reach back: start from a snapshot
        } kind;
        qsizetype replayed = 0; // Resumed
        quint64 ticket = 0;     // Waiting: for stopWaiting()
        QByteArray reason;      // Lost, in words
    };
    // Subscribes after `lastEventId` (taking `subscriber` unless Lost).
    Resumption resume(Subscriber &subscriber, QByteArrayView lastEventId);
    // A subscriber still waiting is handed back (for a snapshot), once.
    std::optional<Subscriber> stopWaiting(quint64 ticket);

    // Subscribes with the current peers first, as events (`rowEvents`, called only when the
    // snapshot must be built), then the live stream; `preface` goes before them (a reset). The
    // caller holds the presence lock, so that the rows are the state after the last event.
    void subscribeWithSnapshot(Subscriber subscriber,
                               const std::function<QList<QByteArray>()> &rowEvents,
                               const QByteArray &preface = {});

    // The frame that tells a client its ID could not be resumed, and why.
    static QByteArray resetFrame(QByteArrayView reason);

    struct Stats
    {
        qsizetype events = 0;
        qint64 bytes = 0; // what the kept frames hold
        quint64 resumed = 0;
        quint64 lost = 0;
        quint64 snapshots = 0;
        quint64 replayed = 0; // events sent again to resuming subscribers
    };
    Stats stats() const;

private:
    struct Block;
    struct Position
    {
        size_t block = 0;
        qsizetype entry = 0;
    };
    struct Waiter
    {
        quint64 ticket;
        EventId after;
        Subscriber subscriber;
    };

    EventId nextId(QByteArrayView clusterId);
    void keep(const EventId &id, const QByteArray &frame);
    // Closes the open block (to be packed) and opens a new one.
    void seal();
    void trim();
    // The first kept event after `id`.
    Position firstAfter(const EventId &id) const;
    // The kept frames from `from` on, as pieces the streams share.
    std::vector<StreamWriter::SharedPiece> piecesFrom(Position from, qsizetype *events) const;
    void subscribeAfter(Subscriber subscriber, const EventId &after, qsizetype *replayed);
    void releaseWaitersUpTo(const EventId &last);
    // The packing thread: compresses the blocks keep() seals, until the history is destroyed.
    void packSealedBlocks();

    const Options m_options;
    const Order m_order;
    EventHub &m_hub;
    const quint32 m_instance; // marks this instance's local IDs
    QElapsedTimer m_clock;

    mutable std::mutex m_mutex;
    std::deque<std::unique_ptr<Block>> m_blocks; // oldest first; the last one still grows
    qsizetype m_firstEntry = 0;                  // in m_blocks.front(): the older ones are gone
    qsizetype m_events = 0;
    qint64 m_bytes = 0;
    EventId m_last;        // of the newest event (or where the order starts)
    EventId m_resumeFloor; // IDs before this are no longer resumable (trimmed or not seen)
    EventId m_sharedFloor; // shared-order IDs before this were never sent from here
    bool m_sharedKnown;    // whether any shared-order ID is resumable here yet
    quint64 m_nextLocal = 1;
    std::vector<Waiter> m_waiters;
    quint64 m_nextTicket = 1;
    struct SnapshotCache
    {
        EventId at;
        std::shared_ptr<const QByteArray> bytes;
    } m_snapshot;
    Stats m_stats;
    // Sealed blocks' frames waiting for the packing thread, which m_packWake wakes.
    std::deque<std::weak_ptr<const QByteArray>> m_toPack;
    bool m_stopPacking = false;
    std::condition_variable m_packWake;
    std::unique_ptr<QThread> m_packer; // last: it stops before the rest is destroyed
};
