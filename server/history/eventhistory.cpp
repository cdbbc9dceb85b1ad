#include "eventhistory.h"

#include "eventhub.h"
#include "jsonwriter.h"
#include "ownthread.h"
#include "sseframe.h"
#include "websocket/websocketframes.h"

#include <QDateTime>
#include <QRandomGenerator>

#include <algorithm>
#include <limits>

namespace {

// A block is closed, and from then on shared with the streams that replay it, at this size.
constexpr qsizetype blockBytes = 64 * 1024;

QByteArray markerFrame(QByteArrayView type, QByteArrayView json, QByteArrayView id = {})
{
    QByteArray frame;
    if (!id.isEmpty())
        frame.append("id: ").append(id).append('\n');
    frame.append("event: ").append(type).append('\n');
    return frame + SseFrame::data(json);
}

} // namespace

struct EventHistory::Block
{
    // 8 bytes an event: where its frame ends in `bytes` and when it was kept, after `startMs`
    // (a block is sealed before that overflows, after 49 days). IDs that run one after another
    // (a server's own) are the first one counted on; others (a cluster's) are kept in `ids`.
    struct Entry
    {
        quint32 end = 0;
        quint32 atMs = 0;
    };
    std::shared_ptr<QByteArray> bytes = std::make_shared<QByteArray>(); // null once packed
    std::shared_ptr<const QByteArray> packed; // the frames, qCompress()ed, once sealed
    std::vector<Entry> entries;
    EventId firstId;
    std::vector<EventId> ids; // every entry's, once they stop running in a row
    qint64 startMs = 0;       // on the history's clock

    qsizetype count() const { return qsizetype(entries.size()); }
    qsizetype startOf(qsizetype entry) const { return entry == 0 ? 0 : entries[entry - 1].end; }
    qsizetype endOf(qsizetype entry) const { return entries[entry].end; }
    qsizetype size() const { return entries.empty() ? 0 : entries.back().end; }
    qint64 keptAt(qsizetype entry) const { return startMs + entries[entry].atMs; }
    EventId idOf(qsizetype entry) const
    {
        if (!ids.empty())
            return ids[entry];
        EventId id = firstId;
        id.seq += quint64(entry);
        return id;
    }
    bool holdsTimeSince(qint64 nowMs) const
    {
        return entries.empty() || nowMs - startMs <= std::numeric_limits<quint32>::max();
    }
    void add(const EventId &id, qint64 nowMs)
    {
        if (entries.empty()) {
            firstId = id;
            startMs = nowMs;
        }
        // The first ID that does not follow on from the others: from then on each is kept.
        if (ids.empty() && !entries.empty() && (id.isLocal() || !(id == idOf(count())))) {
            for (qsizetype entry = 0; entry < count(); ++entry)
                ids.push_back(idOf(entry));
        }
        if (!ids.empty())
            ids.push_back(id);
        entries.push_back({quint32(bytes->size()), quint32(nowMs - startMs)});
    }
};

EventHistory::EventHistory(const Options &options, Order order, EventHub &hub)
    : m_options(options), m_order(order), m_hub(hub),
      m_instance(QRandomGenerator::system()->generate() | 1)
{
    m_clock.start();
    if (order == Order::Own) {
        // This run's IDs: its start time, then a count. An ID of an earlier run is older than
        // every one of them, and so never mistaken for one.
        m_last = EventId{quint64(QDateTime::currentMSecsSinceEpoch()), 0};
        m_sharedFloor = m_last;
        m_sharedKnown = true;
    } else {
        m_sharedKnown = false; // until the first snapshot of the cluster
    }
    m_resumeFloor = m_last;
    m_blocks.push_back(std::make_unique<Block>());
    m_packer = startOwnThread(this, QStringLiteral("history-pack"), [this] { packSealedBlocks(); });
    // Packing only saves memory: it runs when nothing else wants a core (SCHED_IDLE on Linux),
    // since at the normal priority it took 10-14 % of publish throughput on two busy cores.
    m_packer->setPriority(QThread::IdlePriority);
}

EventHistory::~EventHistory()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stopPacking = true;
    }
    m_packWake.notify_one();
    waitForOwnThread(this, *m_packer);
    for (const Waiter &waiter : m_waiters)
        SocketIo::close(waiter.subscriber.socket);
}

EventId EventHistory::nextId(QByteArrayView clusterId)
{
    if (m_order == Order::Own)
        return EventId{m_last.ms, m_last.seq + 1};
    if (const auto shared = EventId::parse(clusterId);
        shared && !shared->isLocal() && m_last < *shared)
        return *shared;
    // Local: after the last event, marked as this instance's.
    return EventId{m_last.ms, m_last.seq, m_nextLocal++, m_instance};
}

void EventHistory::append(const QByteArray &jsonLine, QByteArrayView clusterId)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    const EventId id = nextId(clusterId);
    const QByteArray frame = "id: " + id.toText() + '\n' + SseFrame::data(jsonLine);
    keep(id, frame);
    m_snapshot.bytes.reset(); // stale now; streams still sending it hold their own reference
    m_hub.broadcast(frame,
                    m_hub.webSocketCount() > 0 ? WebSocketFrames::text(jsonLine) : QByteArray());
    if (!m_waiters.empty() && !id.isLocal())
        releaseWaitersUpTo(id);
}

void EventHistory::keep(const EventId &id, const QByteArray &frame)
{
    m_last = id;
    const qint64 now = m_clock.elapsed();
    if (!m_blocks.back()->holdsTimeSince(now))
        seal();
    Block *open = m_blocks.back().get();
    open->bytes->append(frame);
    open->add(id, now);
    ++m_events;
    m_bytes += frame.size();
    if (open->bytes->size() >= blockBytes)
        seal();
    trim();
}

void EventHistory::seal()
{
    Block *open = m_blocks.back().get();
    open->bytes->squeeze();
    open->entries.shrink_to_fit();
    open->ids.shrink_to_fit();
    m_toPack.push_back(open->bytes);
    m_packWake.notify_one();
    m_blocks.push_back(std::make_unique<Block>());
}

void EventHistory::packSealedBlocks()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        m_packWake.wait(lock, [this] { return m_stopPacking || !m_toPack.empty(); });
        if (m_stopPacking)
            return;
        const std::shared_ptr<const QByteArray> bytes = m_toPack.front().lock();
        m_toPack.pop_front();
        if (!bytes)
            continue; // trimmed, and sent to every stream replaying it: nothing to gain
        // Sealed: nobody writes these bytes any more, so they are read without the lock.
        lock.unlock();
        QByteArray compressed = qCompress(*bytes, 1);
        compressed.squeeze(); // it was given room for the worst case
        auto packed = std::make_shared<const QByteArray>(std::move(compressed));
        lock.lock();
        // Trimmed meanwhile, or not worth it (frames of random bytes): left as they are.
        const auto block = std::find_if(m_blocks.begin(), m_blocks.end(),
                                        [&bytes](const auto &b) { return b->bytes == bytes; });
        if (block != m_blocks.end() && packed->size() < bytes->size()) {
            (*block)->packed = std::move(packed);
            (*block)->bytes.reset();
        }
    }
}

void EventHistory::trim()
{
    const qint64 oldestKept = m_clock.elapsed() - m_options.maxAge.count();
    while (m_events > 0) {
        Block &first = *m_blocks.front();
        if (m_events <= m_options.maxEvents && m_bytes <= m_options.maxBytes &&
            first.keptAt(m_firstEntry) >= oldestKept)
            break;
        m_resumeFloor = first.idOf(m_firstEntry); // one who had it has everything still kept
        m_bytes -= first.endOf(m_firstEntry) - first.startOf(m_firstEntry);
        --m_events;
        if (++m_firstEntry == first.count() && m_blocks.size() > 1) {
            m_blocks.pop_front(); // streams still replaying it keep its bytes
            m_firstEntry = 0;
        }
    }
    if (m_events == 0 && m_blocks.size() == 1 && m_firstEntry > 0) {
        m_blocks.front() = std::make_unique<Block>();
        m_firstEntry = 0;
    }
}

void EventHistory::restartAt(QByteArrayView clusterId)
{
    const auto position = EventId::parse(clusterId);
    if (!position || position->isLocal())
        return;
    std::lock_guard<std::mutex> lock(m_mutex);
    m_sharedFloor = *position;
    m_sharedKnown = true;
    if (m_last < *position)
        m_last = *position; // local events from here on come after it
    releaseWaitersUpTo(m_last);
}

EventHistory::Position EventHistory::firstAfter(const EventId &id) const
{
    // Blocks and their entries are in ID order: the first block whose last entry is after `id`.
    const auto block = std::partition_point(
        m_blocks.begin(), m_blocks.end(), [&id](const std::unique_ptr<Block> &b) {
            return b->count() > 0 && b->idOf(b->count() - 1) <= id;
        });
    Position position{size_t(block - m_blocks.begin()), 0};
    if (block == m_blocks.end())
        return position;
    qsizetype after = block == m_blocks.begin() ? m_firstEntry : 0;
    for (qsizetype before = (*block)->count(); after < before;) {
        const qsizetype middle = after + (before - after) / 2;
        if ((*block)->idOf(middle) <= id)
            after = middle + 1;
        else
            before = middle;
    }
    position.entry = after;
    return position;
}

std::vector<StreamWriter::SharedPiece> EventHistory::piecesFrom(Position from,
                                                                qsizetype *events) const
{
    std::vector<StreamWriter::SharedPiece> pieces;
    *events = 0;
    for (size_t b = from.block; b < m_blocks.size(); ++b) {
        const Block &block = *m_blocks[b];
        const qsizetype entry = b == from.block ? from.entry : 0;
        if (entry >= block.count())
            continue;
        *events += block.count() - entry;
        const qsizetype start = block.startOf(entry);
        if (block.packed) {
            pieces.push_back({block.packed, start, block.size(), true});
        } else if (b + 1 < m_blocks.size()) {
            pieces.push_back({block.bytes, start, block.size()}); // sealed: shared
        } else {
            // The open block still grows: the streams get a copy of its tail.
            auto tail = std::make_shared<QByteArray>(block.bytes->sliced(start));
            pieces.push_back({tail, 0, tail->size()});
        }
    }
    return pieces;
}

void EventHistory::subscribeAfter(Subscriber subscriber, const EventId &after, qsizetype *replayed)
{
    std::vector<StreamWriter::SharedPiece> pieces = piecesFrom(firstAfter(after), replayed);
    subscriber.greeting +=
        markerFrame("resumed", "{\"replayed\":" + QByteArray::number(*replayed) + '}');
    ++m_stats.resumed;
    m_stats.replayed += quint64(*replayed);
    m_hub.subscribe(subscriber.socket, subscriber.greeting, std::move(subscriber.place),
                    std::move(pieces), subscriber.punchHints);
}

EventHistory::Resumption EventHistory::resume(Subscriber &subscriber, QByteArrayView lastEventId)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    trim(); // by age, also while nothing is published
    const auto lost = [this](const char *reason) {
        ++m_stats.lost;
        return Resumption{Resumption::Kind::Lost, 0, 0, reason};
    };
    const auto id = EventId::parse(lastEventId);
    if (!id)
        return lost("not an event ID of this server");
    if (id->isLocal() ? id->instance != m_instance : (!m_sharedKnown || *id < m_sharedFloor))
        return lost(m_order == Order::Own ? "an event ID of an earlier run of the server"
                                          : "an event ID this instance did not send");
    if (*id < m_resumeFloor)
        return lost("older than the history kept");
    if (m_last < *id) {
        // In a cluster another instance may have sent it already; this one is about to.
        if (m_order == Order::Own || id->isLocal())
            return lost("not an event ID of this server");
        // The head and `: ok` go out now (a few hundred bytes the socket takes), so that the
        // client sees its stream open while it waits.
        const qint64 sent = SocketIo::sendNow(subscriber.socket, subscriber.greeting.constData(),
                                              subscriber.greeting.size());
        if (sent > 0)
            subscriber.greeting.remove(0, sent);
        Waiter waiter{m_nextTicket++, *id, std::move(subscriber)};
        m_waiters.push_back(std::move(waiter));
        return Resumption{Resumption::Kind::Waiting, 0, m_waiters.back().ticket, {}};
    }
    Resumption resumption{Resumption::Kind::Resumed, 0, 0, {}};
    subscribeAfter(std::move(subscriber), *id, &resumption.replayed);
    return resumption;
}

void EventHistory::releaseWaitersUpTo(const EventId &last)
{
    // One whose ID fell below the floor meanwhile (a resync skipped past it) stays to time out:
    // it needs a snapshot, which this lock cannot give.
    auto ready =
        std::stable_partition(m_waiters.begin(), m_waiters.end(), [this, &last](const Waiter &w) {
            return last < w.after || (m_sharedKnown && w.after < m_sharedFloor);
        });
    for (auto it = ready; it != m_waiters.end(); ++it) {
        qsizetype replayed = 0;
        subscribeAfter(std::move(it->subscriber), it->after, &replayed);
    }
    m_waiters.erase(ready, m_waiters.end());
}

std::optional<EventHistory::Subscriber> EventHistory::stopWaiting(quint64 ticket)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    const auto found = std::find_if(m_waiters.begin(), m_waiters.end(),
                                    [ticket](const Waiter &w) { return w.ticket == ticket; });
    if (found == m_waiters.end())
        return std::nullopt;
    Subscriber subscriber = std::move(found->subscriber);
    m_waiters.erase(found);
    ++m_stats.lost;
    return subscriber;
}

void EventHistory::subscribeWithSnapshot(Subscriber subscriber,
                                         const std::function<QList<QByteArray>()> &rowEvents,
                                         const QByteArray &preface)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    // Subscribers that start at the same point share one snapshot.
    if (!m_snapshot.bytes || !(m_snapshot.at == m_last)) {
        const QList<QByteArray> rows = rowEvents();
        auto bytes = std::make_shared<QByteArray>(
            markerFrame("snapshot", "{\"peers\":" + QByteArray::number(rows.size()) + '}'));
        for (const QByteArray &row : rows)
            bytes->append(SseFrame::data(row));
        const QByteArray last = m_last.toText();
        bytes->append(markerFrame("live", "{\"lastEventId\":\"" + last + "\"}", last));
        m_snapshot = {m_last, std::move(bytes)};
    }
    ++m_stats.snapshots;
    m_hub.subscribe(subscriber.socket, subscriber.greeting + preface, std::move(subscriber.place),
                    {{m_snapshot.bytes, 0, m_snapshot.bytes->size()}}, subscriber.punchHints);
}

QByteArray EventHistory::resetFrame(QByteArrayView reason)
{
    QByteArray json = "{\"reason\":";
    JsonWriter::appendString(json, reason);
    return markerFrame("reset", json + '}');
}

EventHistory::Stats EventHistory::stats() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    Stats stats = m_stats;
    stats.events = m_events;
    stats.bytes = 0;
    for (const auto &block : m_blocks)
        stats.bytes += block->packed ? block->packed->capacity() : block->bytes->capacity();
    return stats;
}
