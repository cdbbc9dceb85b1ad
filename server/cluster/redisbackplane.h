#pragma once

#include "clusterreplies.h"
#include "presenceservice.h"
#include "publishsequencer.h"
#include "redisurl.h"
#include "servermetrics.h"

#include <QByteArrayList>
#include <QElapsedTimer>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <atomic>
#include <deque>
#include <functional>

class RedisConnection;
struct redisReply;

// Shares one presence state between several instances through Redis, so that every instance
// behind a load balancer shows the same peers and the same events.
//
// Every publish accepted here goes to Redis first, where one Lua script stores the row and
// appends the event to a stream, tagged with this instance's ID (or drops it if something newer
// for the peer is there). Every instance follows that stream on a second connection and
// applies its entries, its own included, so that all instances apply and announce the same
// events in the same order; a publish is answered (204) once this instance has applied it.
// Expiry is a script as well, which makes exactly one `offline` per silent peer, whichever
// instance runs it first. On (re)connection a snapshot of the state and the stream position are
// read atomically.
//
// Lives in the main thread and never blocks: HTTP threads only append to an outbox. When Redis
// is unreachable the instance applies its publishes at once and holds them for Redis, keeps
// serving (and expiring) its own state, and reconnects with a back-off from 250 ms to 8 s.
class RedisBackplane : public QObject, public PublishSequencer
{
    Q_OBJECT

public:
    RedisBackplane(const RedisUrl &url, PresenceService &presence, QObject *parent = nullptr);
    ~RedisBackplane() override;

    void start();
    // Hands every publish held for Redis to the connection now (before a stop).
    void flush() { flushOutbox(); }

    // While following the stream: the publish goes to Redis first and is applied here when
    // it comes back on the stream (see PublishSequencer).
    bool sequence(const PresenceMessage &message, qint64 lastSeenUs,
                  std::function<void()> applied) override;

    // Sends a punch hint for `target` to every instance through the stream, where each delivers
    // it if it holds the target's WebSocket (hintArrived); false while not following the
    // stream (then it is this instance's to deliver).
    bool relayHint(const QByteArray &target, const QByteArray &json);

    // Tells the cluster that this instance now holds (or no longer holds) the peer's WebSocket;
    // every instance then marks the peer's row (PresenceService::setWebSocketConnected) when
    // the change comes back on the stream. False while not following (then it is local only).
    bool relayWebSocket(const QByteArray &peerId, bool connected);

    // Shares a rendezvous registration (a SharedRegistration's key and value) or its removal
    // with the other instances. While Redis is away it is held, and sent before the next
    // snapshot is read, so that the snapshot has it.
    void shareRegistration(const QByteArray &key, const QByteArray &value);
    void shareUnregistration(const QByteArray &key);

    // The stream entry this instance has applied up to (main thread).
    QByteArray streamPosition() const { return m_lastEntryId; }

    // Synchronised with Redis and following its stream.
    bool isConnected() const { return m_following.load(); }
    ServerMetrics::Gauges::Cluster gauges() const; // for /metrics

    // Stream entries kept in Redis (approximately): enough to bridge a snapshot and to let a
    // busy instance catch up; an instance further behind reloads the snapshot.
    static constexpr int streamLength = 100000;

Q_SIGNALS:
    void connectedChanged(bool connected);
    // A punch hint from the stream (relayHint(), by any instance), less than a few seconds old.
    void hintArrived(const QByteArray &target, const QByteArray &json);
    // A snapshot was loaded: the instance's own WebSockets should be told again
    // (relayWebSocket), in case Redis lost them.
    void resynchronised();
    // Another instance's rendezvous registration or removal, from the stream.
    void registrationArrived(const QByteArray &key, const QByteArray &value);
    void unregistrationArrived(const QByteArray &key);
    // A snapshot's rendezvous registrations (key, value), before resynchronised().
    void registrationsLoaded(const QList<std::pair<QByteArray, QByteArray>> &registrations);

private:
    // A publish on its way to Redis.
    struct Publish
    {
        PresenceMessage message;
        qint64 lastSeenUs = 0;
        QByteArrayList command;        // the EVALSHA that sends it
        bool appliedHere = false;      // applied when accepted (Redis was away, or a resend)
        std::function<void()> applied; // for a sequenced one: its HTTP answer
        quint64 number = 0;            // in sending order
        bool answered = false;         // Redis ran the script
        QByteArray entryId;            // the stream entry it made; empty if overtaken or failed
    };

    void enqueue(const PresenceMessage &message, qint64 lastSeenUs); // any thread
    bool hold(Publish publish); // any thread; false if it needs following and that ended
    void flushOutbox();
    void send(Publish publish);
    void onPublishReply(quint64 number, redisReply *reply);
    void settlePublishes();
    void applyUnordered();
    void connectNow();
    // Sends `command` on `connection`; `handler` gets the reply unless the connections were
    // replaced (lost()) before it came.
    void ask(RedisConnection *connection, const QByteArrayList &command,
             std::function<void(redisReply *)> handler);
    void sendPreamble(RedisConnection *connection);
    void onCommandsConnected();
    void onSnapshot(redisReply *reply);
    void readStream();
    void onStreamReply(redisReply *reply);
    void applyEntry(const ClusterReplies::StreamEntry &entry);
    void expire(qint64 cutoffUs);
    qint64 goneCutoffUs(qint64 nowUs) const;
    QByteArrayList publishCommand(const PresenceMessage &message, qint64 lastSeenUs) const;
    void checkReply(redisReply *reply, const char *what);
    // Sends `command` while following the stream (its error reply counted as `what`); false,
    // sending nothing, otherwise.
    bool commandWhileFollowing(const QByteArrayList &command, const char *what);
    // Sends a rendezvous change once the commands connection is up; holds it until then.
    void sendOrHoldRendezvous(QByteArrayList command);
    void lost(const QString &reason);

    const RedisUrl m_url;
    PresenceService &m_presence;
    const QByteArray m_instanceId;

    QPointer<RedisConnection> m_commands;
    QPointer<RedisConnection> m_stream;
    quint64 m_generation = 0; // replies to an older connection are ignored
    QByteArray m_lastEntryId;
    QByteArray m_epoch; // of the state last loaded; empty before the first snapshot
    QTimer m_reconnectTimer;
    QTimer m_streamWatchdog;
    QTimer m_rejoinGrace; // expiry stays ClusterAway until it fires
    int m_backoffMs = 0;
    bool m_outageReported = false;
    QElapsedTimer m_outageClock;

    QMutex m_outboxMutex;
    std::deque<Publish> m_outbox;                // not sent yet, guarded by m_outboxMutex
    std::deque<Publish> m_sent;                  // sent, not yet settled (main thread)
    std::deque<QByteArrayList> m_heldRendezvous; // changes made while Redis was away
    quint64 m_nextNumber = 0;
    bool m_flushPosted = false; // guarded by m_outboxMutex
    std::atomic<bool> m_sending{false};
    std::atomic<bool> m_following{false};

    std::atomic<quint64> m_published{0};
    std::atomic<quint64> m_dropped{0};
    std::atomic<quint64> m_errors{0};
    std::atomic<quint64> m_received{0};
    std::atomic<quint64> m_expired{0};
    std::atomic<quint64> m_outages{0};
    std::atomic<quint64> m_resyncs{0};
};
