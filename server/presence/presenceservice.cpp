#include "presenceservice.h"

#include "logcategories.h"
#include "textquote.h"

#include <QDateTime>
#include <QSet>

#include <algorithm>

namespace {

qint64 wallClockUs()
{
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// With delegated expiry the cluster removes stale peers; a row the cluster never removes (it
// does not know it) is still dropped here this long after it was due, so nothing stays forever.
constexpr qint64 delegatedExpirySlackMs = 10000;

// While the cluster's `offline` events for due peers are on their way, check again this soon.
constexpr qint64 delegatedRetryMs = 200;

constexpr qsizetype minimumDeparturesPruneAt = 1024;

// Peers expired per hold of the lock.
constexpr qsizetype expirySlice = 1000;

} // namespace

PresenceService::PresenceService(std::chrono::milliseconds peerTtl, QObject *parent)
    : QObject(parent), m_peerTtlMs(peerTtl.count())
{
    m_clock.start();
    m_expiryTimer.setSingleShot(true);
    m_expiryTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_expiryTimer, &QTimer::timeout, this, &PresenceService::expireSilentPeers);
    m_heldBackTimer.setSingleShot(true);
    connect(&m_heldBackTimer, &QTimer::timeout, this, &PresenceService::logHeldBack);
}

bool PresenceService::publish(PresenceMessage message, std::function<void()> applied)
{
    // No registration service is configured, so every peer is verified, as with the current
    // Go server; what a peer claimed was dropped when its message was parsed.
    message.verified = true;
    // The stamp is taken under the lock when applied here, so that it grows with the order
    // of acceptance; a zero `ts` becomes the same time, as last_seen.
    const auto stamp = [&message] {
        const qint64 nowUs = wallClockUs();
        if (message.ts == 0)
            message.ts = nowUs / 1000;
        return nowUs;
    };
    if (PublishSequencer *sequencer = m_sequencer.load()) {
        const qint64 nowUs = stamp();
        if (sequencer->sequence(message, nowUs, std::move(applied)))
            return true;
        QMutexLocker locker(&m_mutex);
        applyLocally(message, nowUs, true);
        return false;
    }
    QMutexLocker locker(&m_mutex);
    applyLocally(message, stamp(), true);
    return false;
}

void PresenceService::setSequencer(PublishSequencer *sequencer)
{
    m_sequencer = sequencer;
}

void PresenceService::applyHeld(const PresenceMessage &message, qint64 lastSeenUs)
{
    QMutexLocker locker(&m_mutex);
    // Publishes taken here since (Redis being away) may be newer for the same peer.
    if (m_registry.isNews(message.peerId, lastSeenUs, message.type))
        applyLocally(message, lastSeenUs, false);
}

// `report`: tell publishedLocally() (the cluster has not seen this publish).
void PresenceService::applyLocally(const PresenceMessage &message, qint64 nowUs, bool report)
{
    const auto change =
        report ? applyAndWatchAddresses(message, nowUs, m_clock.elapsed(), m_localPlacement, true)
               : m_registry.applyAt(message, nowUs, m_clock.elapsed(), m_localPlacement, true);
    logChangeLocked(change, message, Origin::ThisInstance);
    forgetOldDeparturesLocked(nowUs);
    scheduleExpiryLocked();
    if (report)
        Q_EMIT publishedLocally(message, nowUs);
    Q_EMIT eventAccepted(message.toJson(), {});
}

PresenceRegistry::Change
PresenceService::applyAndWatchAddresses(const PresenceMessage &message, qint64 lastSeenUs,
                                        qint64 monotonicMs, PresenceRegistry::Placement placement,
                                        bool own)
{
    // Only the instance that accepted a publish speaks of it, so that a cluster sends each hint
    // once; a message without addrs never gives any.
    const bool watch = own && message.type != PresenceMessage::Type::Offline &&
                       PresenceRegistry::mayHoldAddresses(message.extraMembers);
    const auto asSet = [](QList<QByteArray> addresses) {
        std::sort(addresses.begin(), addresses.end());
        addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
        return addresses;
    };
    const QList<QByteArray> before =
        watch ? asSet(m_registry.addressesOf(message.peerId)) : QList<QByteArray>();
    const auto change = m_registry.applyAt(message, lastSeenUs, monotonicMs, placement, own);
    if (watch) {
        const QList<QByteArray> after = asSet(m_registry.addressesOf(message.peerId));
        if (!after.isEmpty() && after != before)
            Q_EMIT addressesChanged(message.peerId);
    }
    return change;
}

void PresenceService::logChangeLocked(PresenceRegistry::Change change,
                                      const PresenceMessage &message, Origin origin)
{
    if (origin == Origin::OtherInstance) {
        // Every instance would log it: at info, the one that accepted it does.
        if (change == PresenceRegistry::Change::Registered ||
            change == PresenceRegistry::Change::Removed)
            qCDebug(lcPresence, "peer %s %s via the cluster (%lld online)",
                    goQuoted(message.peerId).constData(),
                    PresenceMessage::typeName(message.type).data(),
                    static_cast<long long>(m_registry.size()));
        return;
    }
    switch (change) {
    case PresenceRegistry::Change::Registered:
        if (!mayLogPeerLocked(PeerLogBudget::CameOnline))
            break;
        qCInfo(lcPresence, "peer %s %s %s (%lld online)", goQuoted(message.peerId).constData(),
               PresenceMessage::typeName(message.type).data(),
               goQuoted(message.content).constData(), static_cast<long long>(m_registry.size()));
        break;
    case PresenceRegistry::Change::Refreshed:
        qCDebug(lcPresence, "peer %s %s", goQuoted(message.peerId).constData(),
                PresenceMessage::typeName(message.type).data());
        break;
    case PresenceRegistry::Change::Removed:
    case PresenceRegistry::Change::NothingToRemove:
        if (!mayLogPeerLocked(PeerLogBudget::WentOffline))
            break;
        qCInfo(lcPresence, "peer %s offline%s (%lld online)", goQuoted(message.peerId).constData(),
               change == PresenceRegistry::Change::Removed ? "" : " (was not registered)",
               static_cast<long long>(m_registry.size()));
        break;
    }
}

bool PresenceService::mayLogPeerLocked(PeerLogBudget::Kind kind)
{
    if (!lcPresence().isInfoEnabled())
        return false;
    logHeldBackLocked();
    if (m_logBudget.admit(kind, m_clock.elapsed()))
        return true;
    if (!m_heldBackScheduled) {
        m_heldBackScheduled = true;
        QMetaObject::invokeMethod(this, &PresenceService::logHeldBack, Qt::QueuedConnection);
    }
    return false;
}

void PresenceService::logHeldBackLocked()
{
    const QByteArray held = m_logBudget.takeSummary(m_clock.elapsed());
    if (!held.isEmpty())
        qCInfo(lcPresence, "%s in the last second, not logged one by one (%lld online)",
               held.constData(), static_cast<long long>(m_registry.size()));
}

// In the service's thread: told when the second is over, if no later line has told it by then.
void PresenceService::logHeldBack()
{
    QMutexLocker locker(&m_mutex);
    logHeldBackLocked();
    m_heldBackScheduled = m_logBudget.holdsBack();
    if (m_heldBackScheduled)
        m_heldBackTimer.start(std::chrono::milliseconds(
            qMax<qint64>(m_logBudget.windowEndMs() - m_clock.elapsed(), 0)));
}

std::optional<qint64> PresenceService::lastSeenOf(const QByteArray &peerId) const
{
    QMutexLocker locker(&m_mutex);
    return m_registry.lastSeenOf(peerId);
}

void PresenceService::setWebSocketConnected(const QByteArray &peerId, bool connected)
{
    QMutexLocker locker(&m_mutex);
    m_registry.setWebSocketConnected(peerId, connected);
}

bool PresenceService::isOnWebSocket(const QByteArray &peerId) const
{
    QMutexLocker locker(&m_mutex);
    return m_registry.isOnWebSocket(peerId);
}

void PresenceService::setWebSocketPeers(const QSet<QByteArray> &peerIds)
{
    QMutexLocker locker(&m_mutex);
    m_registry.setWebSocketPeers(peerIds);
}

QList<QByteArray> PresenceService::addressesOf(const QByteArray &peerId) const
{
    QMutexLocker locker(&m_mutex);
    return m_registry.addressesOf(peerId);
}

QList<std::pair<QByteArray, QList<QByteArray>>> PresenceService::peersWithAddresses() const
{
    QMutexLocker locker(&m_mutex);
    return m_registry.peersWithAddresses();
}

QByteArray PresenceService::peersJson()
{
    QMutexLocker locker(&m_mutex);
    if (QByteArray cached = m_registry.cachedPeersJson(); !cached.isEmpty())
        return cached;
    // Written out without the lock: publishes and expiry go on meanwhile, and the body is that
    // of the rows when the listing was taken.
    const quint64 version = m_registry.version();
    const PresenceRegistry::Listing listing = m_registry.listing();
    locker.unlock();
    const QByteArray json = listing.toJson();
    locker.relock();
    m_registry.cachePeersJson(version, json);
    return json;
}

void PresenceService::whileLocked(
    const std::function<void(const std::function<QList<QByteArray>()> &rowEvents)> &fn)
{
    QMutexLocker locker(&m_mutex);
    fn([this] {
        QList<QByteArray> events;
        const QList<Row> rows = m_registry.rows();
        events.reserve(rows.size());
        for (const Row &row : rows)
            events.append(row.message.toJson());
        return events;
    });
}

qsizetype PresenceService::peerCount() const
{
    QMutexLocker locker(&m_mutex);
    return m_registry.size();
}

PresenceService::Counts PresenceService::counts() const
{
    QMutexLocker locker(&m_mutex);
    Counts counts;
    counts.online = m_registry.countOf(PresenceMessage::Type::Online);
    counts.update = m_registry.countOf(PresenceMessage::Type::Update);
    counts.expiries = m_expiries;
    return counts;
}

bool PresenceService::applyReplicated(const PresenceMessage &message, qint64 lastSeenUs,
                                      const QByteArray &jsonLine, const QByteArray &entryId,
                                      Origin origin)
{
    QMutexLocker locker(&m_mutex);
    // Not news: publishes this instance applied when it took them (Redis was away) coming
    // back, and events that something newer
    // for the peer overtook (a peer whose publishes reach different instances in quick
    // succession); announcing them would tell subscribers something older than they know.
    if (!m_registry.isNews(message.peerId, lastSeenUs, message.type))
        return false;
    const qint64 nowUs = wallClockUs();
    const bool own = origin == Origin::ThisInstance;
    const auto change = applyAndWatchAddresses(message, lastSeenUs, monotonicFor(lastSeenUs, nowUs),
                                               PresenceRegistry::Placement::ByLastSeen, own);
    logChangeLocked(change, message, origin);
    forgetOldDeparturesLocked(nowUs);
    scheduleExpiryLocked();
    Q_EMIT eventAccepted(jsonLine, entryId);
    return true;
}

QList<PresenceService::Row> PresenceService::resynchronise(const QList<Row> &snapshot, Resync mode)
{
    QMutexLocker locker(&m_mutex);
    const qint64 nowUs = wallClockUs();
    QHash<QByteArray, const Row *> wanted;
    wanted.reserve(snapshot.size());
    for (const Row &row : snapshot)
        wanted.insert(row.message.peerId, &row);

    QList<Row> kept;
    int removed = 0;
    int changed = 0;
    for (const Row &local : m_registry.rows()) {
        const Row *remote = wanted.value(local.message.peerId);
        const bool keep = local.own || mode == Resync::Merge;
        if (keep && (!remote || remote->lastSeenUs < local.lastSeenUs)) {
            kept.append(local);
            wanted.remove(local.message.peerId);
            continue;
        }
        if (remote && remote->message.type != PresenceMessage::Type::Offline)
            continue;
        PresenceMessage offline;
        offline.type = PresenceMessage::Type::Offline;
        offline.peerId = local.message.peerId;
        offline.ts = nowUs / 1000;
        // Stamped with what it ends, so that it cannot hide a newer event still on its way.
        m_registry.applyAt(offline, remote ? remote->lastSeenUs : local.lastSeenUs, 0,
                           PresenceRegistry::Placement::ByLastSeen, false);
        ++removed;
        Q_EMIT eventAccepted(offline.toJson(), {});
    }
    // Oldest first, so that every row lands in front of the ones already placed.
    QList<const Row *> incoming(wanted.cbegin(), wanted.cend());
    std::sort(incoming.begin(), incoming.end(),
              [](const Row *a, const Row *b) { return a->lastSeenUs < b->lastSeenUs; });
    for (const Row *row : std::as_const(incoming)) {
        if (row->message.type == PresenceMessage::Type::Offline ||
            m_registry.lastSeenOf(row->message.peerId) == row->lastSeenUs)
            continue;
        m_registry.applyAt(row->message, row->lastSeenUs, monotonicFor(row->lastSeenUs, nowUs),
                           PresenceRegistry::Placement::ByLastSeen, false);
        ++changed;
        Q_EMIT eventAccepted(row->message.toJson(), {});
    }
    qCInfo(lcPresence,
           "resynchronised with the cluster: %lld peers, %d new or changed, %d gone, %lld "
           "newer here than in the cluster",
           static_cast<long long>(m_registry.size()), changed, removed,
           static_cast<long long>(kept.size()));
    scheduleExpiryLocked();
    return kept;
}

void PresenceService::setShared()
{
    QMutexLocker locker(&m_mutex);
    m_localPlacement = PresenceRegistry::Placement::ByLastSeen;
}

void PresenceService::setExpiry(Expiry expiry)
{
    if (m_expiry == expiry)
        return;
    m_expiry = expiry;
    scheduleExpiry();
}

qint64 PresenceService::expiryLimitMs() const
{
    switch (m_expiry) {
    case Expiry::Here:
        break;
    case Expiry::Delegated:
        return m_peerTtlMs + delegatedExpirySlackMs;
    case Expiry::ClusterAway:
        return m_peerTtlMs * awayExpiryFactor;
    }
    return m_peerTtlMs;
}

qint64 PresenceService::monotonicFor(qint64 lastSeenUs, qint64 nowUs) const
{
    return m_clock.elapsed() - qMax<qint64>(0, (nowUs - lastSeenUs) / 1000);
}

void PresenceService::expireSilentPeers()
{
    QMutexLocker locker(&m_mutex);
    const qint64 limitMs = expiryLimitMs();
    if (m_expiry == Expiry::Delegated) {
        const auto oldest = m_registry.oldestSeen();
        if (oldest && *oldest < m_clock.elapsed() - m_peerTtlMs + 1)
            Q_EMIT expiryDue(wallClockUs() - m_peerTtlMs * 1000);
    }
    // A mass expiry (a network partition, 50,000 peers) goes in slices, so that publishes
    // waiting for the lock get their turn between them.
    const QList<QByteArray> expired =
        m_registry.removeSeenBefore(m_clock.elapsed() - limitMs + 1, expirySlice);
    m_expiries += quint64(expired.size());
    for (const QByteArray &peerId : expired) {
        PresenceMessage offline;
        offline.type = PresenceMessage::Type::Offline;
        offline.peerId = peerId;
        offline.ts = QDateTime::currentMSecsSinceEpoch();
        if (mayLogPeerLocked(PeerLogBudget::Expired))
            qCInfo(lcPresence, "peer %s expired after %lld ms of silence (%lld online)",
                   goQuoted(peerId).constData(), static_cast<long long>(limitMs),
                   static_cast<long long>(m_registry.size()));
        Q_EMIT eventAccepted(offline.toJson(), {});
    }
    locker.unlock();
    if (expired.size() == expirySlice) {
        QMetaObject::invokeMethod(this, &PresenceService::expireSilentPeers, Qt::QueuedConnection);
        return;
    }
    scheduleExpiry();
}

void PresenceService::forgetOldDeparturesLocked(qint64 nowUs)
{
    // Departures matter only while an older event could still arrive from another instance;
    // two silence limits is ample. Pruned when their number has doubled: amortised O(1).
    if (m_registry.departureCount() < m_departuresPruneAt)
        return;
    m_registry.forgetDeparturesBefore(nowUs - 2 * m_peerTtlMs * 1000);
    m_departuresPruneAt =
        qMax<qsizetype>(minimumDeparturesPruneAt, 2 * m_registry.departureCount());
}

void PresenceService::scheduleExpiryLocked()
{
    if (!m_expiryScheduled && m_registry.size() > 0) {
        m_expiryScheduled = true;
        QMetaObject::invokeMethod(this, &PresenceService::scheduleExpiry, Qt::QueuedConnection);
    }
}

void PresenceService::scheduleExpiry()
{
    QMutexLocker locker(&m_mutex);
    const auto oldest = m_registry.oldestSeen();
    m_expiryScheduled = oldest.has_value();
    if (!oldest) {
        m_expiryTimer.stop();
        return;
    }
    qint64 due = *oldest + m_peerTtlMs - m_clock.elapsed();
    if (m_expiry == Expiry::Delegated && due <= 0)
        due = delegatedRetryMs;
    else if (m_expiry == Expiry::ClusterAway)
        due = *oldest + expiryLimitMs() - m_clock.elapsed();
    m_expiryTimer.start(std::chrono::milliseconds(qMax<qint64>(due, 0)));
}
