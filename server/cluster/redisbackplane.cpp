#include "redisbackplane.h"

#include "backplanescripts.h"
#include "clusterreplies.h"
#include "logcategories.h"
#include "redisconnection.h"
#include "textquote.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QRandomGenerator>
#include <QSet>
#include <QSysInfo>

#include <hiredis/hiredis.h>
#include <vector>

namespace {

constexpr int firstBackoffMs = 250;
constexpr int lastBackoffMs = 8000;

// Back from an outage, an instance leaves expiry alone this long: until every other instance
// is back too (the back-off's longest wait, and some) and has sent what it took meanwhile, the
// cluster cannot tell a silent peer from one whose heartbeats are still on their way.
constexpr int rejoinGraceMs = lastBackoffMs + 4000;
// A punch hint older than this when it is read from the stream is not delivered.
constexpr qint64 hintLifetimeMs = 10000;

// XREAD blocks this long at most, so that a silent Redis is noticed by the watchdog.
constexpr int streamBlockMs = 10000;
constexpr int streamWatchdogMs = streamBlockMs + 5000;
constexpr int streamBatch = 1000;
constexpr int expiryBatch = 1000;
// Publishes held while Redis is away, sent when it is back; beyond this the oldest go (the
// resynchronisation still sends every row this instance has and Redis lacks).
constexpr qsizetype maxOutbox = 100000;

using ClusterReplies::isText;
QByteArray replyText(const redisReply *reply)
{
    return ClusterReplies::text(reply);
}

QByteArray randomName()
{
    return QByteArray::number(QRandomGenerator::system()->generate64(), 16);
}

QByteArray makeInstanceId()
{
    return QSysInfo::machineHostName().toUtf8() + '-' +
           QByteArray::number(QCoreApplication::applicationPid()) + '-' + randomName();
}

} // namespace

RedisBackplane::RedisBackplane(const RedisUrl &url, PresenceService &presence, QObject *parent)
    : QObject(parent), m_url(url), m_presence(presence), m_instanceId(makeInstanceId())
{
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &RedisBackplane::connectNow);
    m_rejoinGrace.setSingleShot(true);
    connect(&m_rejoinGrace, &QTimer::timeout, this,
            [this] { m_presence.setExpiry(PresenceService::Expiry::Delegated); });
    m_streamWatchdog.setSingleShot(true);
    connect(&m_streamWatchdog, &QTimer::timeout, this,
            [this] { lost(QStringLiteral("no answer to XREAD in time")); });
    // Direct: in the publishing thread, under the presence lock, so the outbox keeps the order
    // in which this instance accepted its publishes.
    connect(&m_presence, &PresenceService::publishedLocally, this, &RedisBackplane::enqueue,
            Qt::DirectConnection);
    connect(&m_presence, &PresenceService::expiryDue, this, &RedisBackplane::expire);
    m_presence.setShared();
    m_presence.setSequencer(this);
}

RedisBackplane::~RedisBackplane()
{
    m_presence.setSequencer(nullptr);
    delete m_commands;
    delete m_stream;
}

void RedisBackplane::start()
{
    qCInfo(lcCluster, "cluster: instance %s joins through %s", m_instanceId.constData(),
           qPrintable(m_url.displayText()));
    m_presence.setExpiry(PresenceService::Expiry::ClusterAway); // until the first snapshot
    connectNow();
}

ServerMetrics::Gauges::Cluster RedisBackplane::gauges() const
{
    ServerMetrics::Gauges::Cluster gauges;
    gauges.connected = m_following.load();
    gauges.published = m_published.load();
    gauges.dropped = m_dropped.load();
    gauges.errors = m_errors.load();
    gauges.received = m_received.load();
    gauges.expired = m_expired.load();
    gauges.outages = m_outages.load();
    gauges.resyncs = m_resyncs.load();
    return gauges;
}

void RedisBackplane::connectNow()
{
    ++m_generation;
    m_commands = new RedisConnection(this);
    m_stream = new RedisConnection(this);
    const quint64 generation = m_generation;
    const auto lostIfCurrent = [this, generation](const QString &reason) {
        if (generation == m_generation)
            lost(reason);
    };
    for (RedisConnection *connection : {m_commands.data(), m_stream.data()}) {
        // Queued: hiredis is inside its own callback when it reports a lost connection.
        connect(connection, &RedisConnection::disconnected, this, lostIfCurrent,
                Qt::QueuedConnection);
        if (!connection->open(m_url.host, m_url.port)) {
            const QString reason = connection->errorText();
            QMetaObject::invokeMethod(
                this, [lostIfCurrent, reason] { lostIfCurrent(reason); }, Qt::QueuedConnection);
            return;
        }
        sendPreamble(connection);
    }
    for (const auto *script :
         {&BackplaneScripts::publish(), &BackplaneScripts::expire(), &BackplaneScripts::snapshot(),
          &BackplaneScripts::webSocket(), &BackplaneScripts::registerRendezvous(),
          &BackplaneScripts::unregisterRendezvous()})
        ask(m_commands, {"SCRIPT", "LOAD", script->source},
            [this](redisReply *reply) { checkReply(reply, "SCRIPT LOAD"); });
    connect(m_commands, &RedisConnection::connected, this, &RedisBackplane::onCommandsConnected);
}

void RedisBackplane::ask(RedisConnection *connection, const QByteArrayList &command,
                         std::function<void(redisReply *)> handler)
{
    const quint64 generation = m_generation;
    connection->command(command,
                        [this, generation, handler = std::move(handler)](redisReply *reply) {
                            if (generation == m_generation)
                                handler(reply);
                        });
}

void RedisBackplane::sendPreamble(RedisConnection *connection)
{
    const auto check = [this](const char *what) {
        return [this, what](redisReply *reply) {
            if (reply && reply->type == REDIS_REPLY_ERROR)
                lost(QStringLiteral("%1 failed: %2")
                         .arg(QLatin1String(what), QString::fromUtf8(replyText(reply))));
        };
    };
    if (!m_url.password.isEmpty()) {
        QByteArrayList auth{"AUTH"};
        if (!m_url.user.isEmpty())
            auth.append(m_url.user);
        auth.append(m_url.password);
        ask(connection, auth, check("AUTH"));
    }
    if (m_url.database != 0)
        ask(connection, {"SELECT", QByteArray::number(m_url.database)}, check("SELECT"));
}

void RedisBackplane::onCommandsConnected()
{
    // Publishes go out from now on, those held during an outage first, all pipelined before
    // the snapshot: they are in it, and later ones come back on the stream.
    m_sending = true;
    flushOutbox();
    for (const QByteArrayList &command : std::exchange(m_heldRendezvous, {}))
        ask(m_commands, command,
            [this](redisReply *reply) { checkReply(reply, "rendezvous change"); });
    const auto &script = BackplaneScripts::snapshot();
    ask(m_commands,
        {"EVALSHA", script.sha1, "7", BackplaneScripts::peersKey(), BackplaneScripts::eventsKey(),
         BackplaneScripts::epochKey(), BackplaneScripts::goneKey(), BackplaneScripts::wsKey(),
         BackplaneScripts::rendezvousKey(), BackplaneScripts::rendezvousExpiryKey(), randomName(),
         QByteArray::number(QDateTime::currentMSecsSinceEpoch())},
        [this](redisReply *reply) { onSnapshot(reply); });
}

void RedisBackplane::onSnapshot(redisReply *reply)
{
    if (!reply)
        return;
    QString error;
    std::optional<ClusterReplies::Snapshot> snapshot = ClusterReplies::snapshot(reply, &error);
    if (!snapshot) {
        lost(error);
        return;
    }
    if (snapshot->malformedRows > 0)
        qCWarning(lcCluster, "cluster: ignoring %lld malformed rows in Redis",
                  static_cast<long long>(snapshot->malformedRows));
    m_lastEntryId = snapshot->position;
    const bool stateLost = !m_epoch.isEmpty() && snapshot->epoch != m_epoch;
    m_epoch = snapshot->epoch;
    const QList<PresenceService::Row> &rows = snapshot->rows;
    const qsizetype peerCount = snapshot->peerCount;
    if (stateLost)
        qCWarning(lcCluster, "cluster: Redis lost the cluster's state (restarted without "
                             "persistence?); the instances rebuild it from theirs");
    const QList<PresenceService::Row> newer = m_presence.resynchronise(
        rows, stateLost ? PresenceService::Resync::Merge : PresenceService::Resync::Replace);
    for (const PresenceService::Row &row : newer)
        enqueue(row.message, row.lastSeenUs);
    m_presence.setWebSocketPeers(snapshot->onWebSockets);
    ++m_resyncs;
    m_backoffMs = 0;
    const bool rejoining = m_outageReported;
    if (m_outageReported) {
        qCInfo(lcCluster,
               "cluster: Redis at %s is back after %lld ms; %lld peers loaded, %lld "
               "sent again",
               qPrintable(m_url.displayText()), static_cast<long long>(m_outageClock.elapsed()),
               static_cast<long long>(peerCount), static_cast<long long>(newer.size()));
        m_outageReported = false;
    } else {
        qCInfo(lcCluster, "cluster: connected to %s; %lld peers loaded, following from %s",
               qPrintable(m_url.displayText()), static_cast<long long>(rows.size()),
               m_lastEntryId.constData());
    }
    if (rejoining)
        m_rejoinGrace.start(rejoinGraceMs);
    else
        m_presence.setExpiry(PresenceService::Expiry::Delegated);
    m_following = true;
    Q_EMIT connectedChanged(true);
    Q_EMIT registrationsLoaded(snapshot->rendezvousRegistrations);
    Q_EMIT resynchronised();
    readStream();
}

void RedisBackplane::readStream()
{
    ask(m_stream,
        {"XREAD", "COUNT", QByteArray::number(streamBatch), "BLOCK",
         QByteArray::number(streamBlockMs), "STREAMS", BackplaneScripts::eventsKey(),
         m_lastEntryId},
        [this](redisReply *reply) { onStreamReply(reply); });
    m_streamWatchdog.start(streamWatchdogMs);
}

void RedisBackplane::onStreamReply(redisReply *reply)
{
    if (!reply)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        lost(QStringLiteral("XREAD failed: ") + QString::fromUtf8(replyText(reply)));
        return;
    }
    for (const ClusterReplies::StreamEntry &entry : ClusterReplies::streamEntries(reply)) {
        m_lastEntryId = entry.id;
        applyEntry(entry);
    }
    settlePublishes(); // this instance's own, applied now: their HTTP answers go out
    readStream();
}

bool RedisBackplane::relayHint(const QByteArray &target, const QByteArray &json)
{
    return commandWhileFollowing({"XADD", BackplaneScripts::eventsKey(), "MAXLEN", "~",
                                  QByteArray::number(streamLength), "*", "i", m_instanceId, "h",
                                  target, "m", json},
                                 "punch hint");
}

bool RedisBackplane::relayWebSocket(const QByteArray &peerId, bool connected)
{
    return commandWhileFollowing({"EVALSHA", BackplaneScripts::webSocket().sha1, "2",
                                  BackplaneScripts::wsKey(), BackplaneScripts::eventsKey(),
                                  m_instanceId, peerId, connected ? "1" : "0",
                                  QByteArray::number(streamLength)},
                                 "WebSocket change");
}

void RedisBackplane::shareRegistration(const QByteArray &key, const QByteArray &value)
{
    sendOrHoldRendezvous({"EVALSHA", BackplaneScripts::registerRendezvous().sha1, "3",
                          BackplaneScripts::rendezvousKey(),
                          BackplaneScripts::rendezvousExpiryKey(), BackplaneScripts::eventsKey(),
                          m_instanceId, key, value,
                          QByteArray::number(QDateTime::currentMSecsSinceEpoch()),
                          QByteArray::number(streamLength)});
}

void RedisBackplane::shareUnregistration(const QByteArray &key)
{
    sendOrHoldRendezvous({"EVALSHA", BackplaneScripts::unregisterRendezvous().sha1, "3",
                          BackplaneScripts::rendezvousKey(),
                          BackplaneScripts::rendezvousExpiryKey(), BackplaneScripts::eventsKey(),
                          m_instanceId, key, QByteArray::number(streamLength)});
}

void RedisBackplane::sendOrHoldRendezvous(QByteArrayList command)
{
    if (m_commands && m_sending.load()) {
        ask(m_commands, command,
            [this](redisReply *reply) { checkReply(reply, "rendezvous change"); });
        return;
    }
    // Beyond this the oldest go: the resynchronisation still sends every registration this
    // instance holds and Redis lacks (only removals can be lost).
    if (qsizetype(m_heldRendezvous.size()) >= maxOutbox)
        m_heldRendezvous.pop_front();
    m_heldRendezvous.push_back(std::move(command));
}

bool RedisBackplane::commandWhileFollowing(const QByteArrayList &command, const char *what)
{
    if (!m_following.load())
        return false;
    ask(m_commands, command, [this, what](redisReply *reply) { checkReply(reply, what); });
    return true;
}

void RedisBackplane::applyEntry(const ClusterReplies::StreamEntry &entry)
{
    const QByteArray &entryId = entry.id;
    const QByteArray &instance = entry.instance;
    const QByteArray &lastSeen = entry.lastSeen;
    const QByteArray &json = entry.json;
    const QByteArray &expiredPeer = entry.expiredPeer;
    const QByteArray &hintTarget = entry.hintTarget;
    const QByteArray &webSocketPeer = entry.webSocketPeer;
    // This instance's own rendezvous changes are in its store already; applying them again
    // would give them new order numbers, and clients would discover them again.
    if (!entry.registrationKey.isEmpty()) {
        if (instance != m_instanceId)
            Q_EMIT registrationArrived(entry.registrationKey, entry.registrationValue);
        return;
    }
    if (!entry.unregistrationKey.isEmpty()) {
        if (instance != m_instanceId)
            Q_EMIT unregistrationArrived(entry.unregistrationKey);
        return;
    }
    if (!webSocketPeer.isEmpty()) {
        m_presence.setWebSocketConnected(webSocketPeer, entry.connected == "1");
        return;
    }
    if (!hintTarget.isEmpty()) {
        // An instance catching up on the stream skips hints that are stale by now (the entry
        // ID starts with Redis's clock in ms): the peers have moved on.
        const qint64 ageMs =
            QDateTime::currentMSecsSinceEpoch() - entryId.left(entryId.indexOf('-')).toLongLong();
        if (ageMs < hintLifetimeMs)
            Q_EMIT hintArrived(hintTarget, json);
        return;
    }
    if (!expiredPeer.isEmpty()) {
        // Nobody applied an expiry before it reached the stream, not even the instance that ran
        // the script: every instance announces it from here.
        PresenceMessage offline;
        offline.type = PresenceMessage::Type::Offline;
        offline.peerId = expiredPeer;
        offline.ts = entry.ts.toLongLong();
        ++m_expired;
        if (m_presence.applyReplicated(offline, lastSeen.toLongLong(), offline.toJson(), entryId,
                                       PresenceService::Origin::OtherInstance))
            qCInfo(lcCluster, "peer %s expired after %lld ms of silence (noticed by %s)",
                   goQuoted(expiredPeer).constData(),
                   static_cast<long long>(m_presence.peerTtlMs()),
                   instance == m_instanceId ? "this instance" : instance.constData());
        return;
    }
    auto parsed = PresenceMessage::parse(json, PresenceMessage::Source::Server);
    if (!std::holds_alternative<PresenceMessage>(parsed)) {
        qCWarning(lcCluster, "cluster: ignoring malformed stream entry %s", entryId.constData());
        return;
    }
    const PresenceMessage &message = std::get<PresenceMessage>(parsed);
    const bool own = instance == m_instanceId;
    if (m_presence.applyReplicated(message, lastSeen.toLongLong(), json, entryId,
                                   own ? PresenceService::Origin::ThisInstance
                                       : PresenceService::Origin::OtherInstance) &&
        !own)
        ++m_received;
}

bool RedisBackplane::sequence(const PresenceMessage &message, qint64 lastSeenUs,
                              std::function<void()> applied)
{
    if (!m_following.load())
        return false;
    Publish publish;
    publish.message = message;
    publish.lastSeenUs = lastSeenUs;
    publish.command = publishCommand(message, lastSeenUs);
    publish.applied = std::move(applied);
    return hold(std::move(publish));
}

void RedisBackplane::enqueue(const PresenceMessage &message, qint64 lastSeenUs)
{
    Publish publish;
    publish.message = message;
    publish.lastSeenUs = lastSeenUs;
    publish.command = publishCommand(message, lastSeenUs);
    publish.appliedHere = true;
    hold(std::move(publish));
}

bool RedisBackplane::hold(Publish publish)
{
    QMutexLocker locker(&m_outboxMutex);
    if (!publish.appliedHere && !m_following.load())
        return false; // the connection went away meanwhile
    if (qsizetype(m_outbox.size()) >= maxOutbox && m_outbox.front().appliedHere) {
        // Redis is away this long. (A publish still to be ordered is never dropped: its client
        // waits for it, so there are never more of those than connections.)
        m_outbox.pop_front();
        ++m_dropped;
    }
    m_outbox.push_back(std::move(publish));
    if (!m_flushPosted && m_sending.load()) {
        m_flushPosted = true;
        QMetaObject::invokeMethod(this, &RedisBackplane::flushOutbox, Qt::QueuedConnection);
    }
    return true;
}

void RedisBackplane::flushOutbox()
{
    std::deque<Publish> publishes;
    {
        QMutexLocker locker(&m_outboxMutex);
        m_flushPosted = false;
        if (!m_commands || !m_sending.load())
            return; // kept for when Redis is back
        publishes.swap(m_outbox);
    }
    for (Publish &publish : publishes)
        send(std::move(publish));
}

void RedisBackplane::send(Publish publish)
{
    const quint64 number = publish.number = m_nextNumber++;
    ask(m_commands, publish.command,
        [this, number](redisReply *reply) { onPublishReply(number, reply); });
    m_sent.push_back(std::move(publish));
    ++m_published;
}

void RedisBackplane::onPublishReply(quint64 number, redisReply *reply)
{
    if (!reply || m_sent.empty() || number < m_sent.front().number)
        return;
    Publish &publish = m_sent[size_t(number - m_sent.front().number)];
    publish.answered = true;
    if (reply->type == REDIS_REPLY_ERROR) {
        checkReply(reply, "publish");
        // Not in the cluster's order: applied here, as if Redis were away.
        if (!publish.appliedHere) {
            m_presence.applyHeld(publish.message, publish.lastSeenUs);
            publish.appliedHere = true;
        }
    } else if (isText(reply)) {
        publish.entryId = replyText(reply);
    } // nil: something newer for the peer was there, the stream brings it
    settlePublishes();
}

namespace {

// Stream entry IDs are "<ms>-<seq>"; true if `a` comes no later than `b`.
bool entryNoLater(const QByteArray &a, const QByteArray &b)
{
    const auto split = [](const QByteArray &id) {
        const qsizetype dash = id.indexOf('-');
        return std::pair(id.left(dash).toULongLong(), id.mid(dash + 1).toULongLong());
    };
    return split(a) <= split(b);
}

} // namespace

void RedisBackplane::settlePublishes()
{
    // In sending order: Redis answers in that order, and the stream brings the entries so.
    while (!m_sent.empty() && m_sent.front().answered) {
        Publish &publish = m_sent.front();
        if (!publish.entryId.isEmpty() && !entryNoLater(publish.entryId, m_lastEntryId))
            return; // applied when the stream reaches it
        if (publish.applied)
            publish.applied();
        m_sent.pop_front();
    }
}

void RedisBackplane::applyUnordered()
{
    // The connection is gone: what was sent may or may not be in Redis. Whatever this instance
    // took to be ordered and has not applied yet is applied now, answered, and sent again
    // (the script ignores what Redis already has) with what waited in the outbox.
    std::vector<Publish> unapplied;
    {
        QMutexLocker locker(&m_outboxMutex);
        for (auto it = m_sent.rbegin(); it != m_sent.rend(); ++it)
            m_outbox.push_front(std::move(*it));
        m_sent.clear();
        for (Publish &publish : m_outbox) {
            publish.answered = false;
            publish.entryId.clear();
            if (publish.appliedHere)
                continue;
            Publish copy;
            copy.message = publish.message;
            copy.lastSeenUs = publish.lastSeenUs;
            copy.applied = std::exchange(publish.applied, {});
            unapplied.push_back(std::move(copy));
            publish.appliedHere = true;
        }
    }
    // Outside the outbox's lock: the presence service takes its own, and publishing threads
    // take the two in the other order.
    for (Publish &publish : unapplied) {
        m_presence.applyHeld(publish.message, publish.lastSeenUs);
        if (publish.applied)
            publish.applied();
    }
}

QByteArrayList RedisBackplane::publishCommand(const PresenceMessage &message,
                                              qint64 lastSeenUs) const
{
    QByteArrayList command{"EVALSHA",
                           BackplaneScripts::publish().sha1,
                           "4",
                           BackplaneScripts::peersKey(),
                           BackplaneScripts::seenKey(),
                           BackplaneScripts::eventsKey(),
                           BackplaneScripts::goneKey(),
                           m_instanceId,
                           PresenceMessage::typeName(message.type).toByteArray(),
                           message.peerId,
                           QByteArray::number(lastSeenUs),
                           message.toJson(),
                           QByteArray::number(streamLength),
                           QByteArray::number(goneCutoffUs(lastSeenUs))};
    return command;
}

qint64 RedisBackplane::goneCutoffUs(qint64 nowUs) const
{
    // Rows older than two silence limits are stale everywhere: none can come back from them.
    return nowUs - 2 * m_presence.peerTtlMs() * 1000;
}

void RedisBackplane::expire(qint64 cutoffUs)
{
    commandWhileFollowing(
        {"EVALSHA", BackplaneScripts::expire().sha1, "4", BackplaneScripts::peersKey(),
         BackplaneScripts::seenKey(), BackplaneScripts::eventsKey(), BackplaneScripts::goneKey(),
         QByteArray::number(cutoffUs), m_instanceId,
         QByteArray::number(QDateTime::currentMSecsSinceEpoch()), QByteArray::number(streamLength),
         QByteArray::number(expiryBatch), QByteArray::number(goneCutoffUs(cutoffUs))},
        "expire");
}

void RedisBackplane::checkReply(redisReply *reply, const char *what)
{
    if (!reply || reply->type != REDIS_REPLY_ERROR)
        return;
    ++m_errors;
    qCWarning(lcCluster, "cluster: %s failed: %s", what, replyText(reply).constData());
}

void RedisBackplane::lost(const QString &reason)
{
    if (!m_commands)
        return; // already lost: both connections report it
    ++m_generation;
    ++m_outages;
    bool wasFollowing = false;
    {
        // Under the outbox's lock, so that no sequence() call slips in after applyUnordered().
        QMutexLocker locker(&m_outboxMutex);
        m_sending = false;
        wasFollowing = m_following.exchange(false);
    }
    applyUnordered();
    m_streamWatchdog.stop();
    m_rejoinGrace.stop();
    m_presence.setExpiry(PresenceService::Expiry::ClusterAway);
    // Not now: this may run inside a reply handler of one of them.
    for (RedisConnection *connection : {m_commands.data(), m_stream.data()}) {
        if (connection)
            connection->deleteLater();
    }
    m_commands.clear();
    m_stream.clear();
    if (!m_outageReported) {
        m_outageReported = true;
        m_outageClock.start();
        qCWarning(lcCluster,
                  "cluster: Redis at %s unavailable (%s); serving this instance's state alone "
                  "and reconnecting",
                  qPrintable(m_url.displayText()), qPrintable(reason));
    } else {
        qCDebug(lcCluster, "cluster: reconnecting to %s failed (%s)",
                qPrintable(m_url.displayText()), qPrintable(reason));
    }
    if (wasFollowing)
        Q_EMIT connectedChanged(false);
    m_backoffMs = m_backoffMs == 0 ? firstBackoffMs : qMin(m_backoffMs * 2, lastBackoffMs);
    m_reconnectTimer.start(m_backoffMs);
}
