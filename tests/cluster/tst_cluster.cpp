// Several instances sharing one Redis (--redis), behind Caddy as the deployment guide sets them
// up: every event reaches the subscribers of every instance, /peers.json agrees everywhere,
// expiry is announced once for the whole cluster, a new instance starts with the current peers,
// and the cluster survives losing an instance or Redis itself.
#include "caddyprocess.h"
#include "httpclient.h"
#include "loopbackport.h"
#include "redisprocess.h"
#include "rendezvousclient.h"
#include "serverprocess.h"
#include "streamrecorder.h"
#include "websocketclient.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <functional>
#include <memory>
#include <vector>

namespace {

// Runs the event loop, so that every stream is read as its bytes arrive, until `done` holds or
// the time is up; returns `done()`.
bool runUntil(const std::function<bool()> &done, int timeoutMs)
{
    if (done())
        return true;
    QEventLoop loop;
    QTimer poll;
    poll.setInterval(1);
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (done())
            loop.quit();
    });
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    poll.start();
    loop.exec();
    return done();
}

void runFor(int ms)
{
    runUntil([] { return false; }, ms);
}

QByteArray message(const char *type, const QByteArray &peerId, const QByteArray &content = {})
{
    QJsonObject object{{"type", QLatin1String(type)}, {"peerId", QString::fromUtf8(peerId)}};
    if (!content.isEmpty())
        object.insert("content", QString::fromUtf8(content));
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

// What identifies a publish in the events it causes (the server fills in `ts`).
QByteArray keyOf(const QByteArray &json)
{
    const QJsonObject object = QJsonDocument::fromJson(json).object();
    return (object["type"].toString() + ' ' + object["peerId"].toString() + ' ' +
            object["content"].toString())
        .toUtf8();
}

QList<QByteArray> keysOf(const QList<QByteArray> &events)
{
    QList<QByteArray> keys;
    for (const QByteArray &event : events)
        keys.append(keyOf(event));
    return keys;
}

QList<QByteArray> sorted(QList<QByteArray> list)
{
    std::sort(list.begin(), list.end());
    return list;
}

QByteArray peerIdOf(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object()["peerId"].toString().toUtf8();
}

QByteArray typeOf(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object()["type"].toString().toUtf8();
}

QByteArray peersJsonOf(quint16 port)
{
    HttpClient http(port);
    const auto response = http.get("/peers.json");
    return response.status == 200 ? response.body : QByteArray();
}

QSet<QByteArray> peerIdsIn(const QByteArray &peersJson)
{
    QSet<QByteArray> ids;
    for (const QJsonValue &row : QJsonDocument::fromJson(peersJson).array())
        ids.insert(row["peer_id"].toString().toUtf8());
    return ids;
}

double percentile(QList<double> values, double fraction)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    const auto index = static_cast<qsizetype>(std::ceil(fraction * values.size())) - 1;
    return values[qBound<qsizetype>(0, index, values.size() - 1)];
}

// Counts the Redis stream's expiry entries ({i, e, t}), one per expired peer.
const QByteArray countExpiriesScript =
    "local n = 0 for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do "
    "if entry[2][3] == 'e' then n = n + 1 end end return n";

// Everything Redis holds, every key of every type, as one text (the keys' names included).
const QByteArray dumpEverythingScript =
    "local out = {} "
    "local function add(v) if type(v) == 'table' then for _, x in ipairs(v) do add(x) end "
    "else out[#out + 1] = tostring(v) end end "
    "for _, key in ipairs(redis.call('KEYS', '*')) do add(key) "
    "local t = redis.call('TYPE', key)['ok'] "
    "if t == 'hash' then add(redis.call('HGETALL', key)) "
    "elseif t == 'zset' then add(redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')) "
    "elseif t == 'set' then add(redis.call('SMEMBERS', key)) "
    "elseif t == 'list' then add(redis.call('LRANGE', key, 0, -1)) "
    "elseif t == 'stream' then add(redis.call('XRANGE', key, '-', '+')) "
    "elseif t == 'string' then add(redis.call('GET', key)) end end "
    "return table.concat(out, ' ')";

} // namespace

class TestCluster : public QObject
{
    Q_OBJECT

private:
    ServerProcess *startInstance(const QStringList &extraArguments = {})
    {
        auto instance = std::make_unique<ServerProcess>(
            QStringList{QStringLiteral("--redis"), m_redis->url()} + extraArguments);
        if (!instance->start()) {
            qWarning("an instance did not start:\n%s", instance->log().constData());
            return nullptr;
        }
        m_instances.push_back(std::move(instance));
        return m_instances.back().get();
    }

    bool startCluster(int count, const QStringList &extraArguments = {})
    {
        m_redis = std::make_unique<RedisProcess>();
        if (!m_redis->start()) {
            qWarning("redis-server did not start on port %d", m_redis->port());
            return false;
        }
        for (int i = 0; i < count; ++i) {
            ServerProcess *instance = startInstance(extraArguments);
            if (!instance || !instance->waitForLog("cluster: connected to"))
                return false;
        }
        return true;
    }

    bool startCaddy()
    {
        QList<quint16> upstreams;
        for (const auto &instance : m_instances)
            upstreams.append(instance->port());
        m_caddy = std::make_unique<CaddyProcess>(upstreams);
        if (!m_caddy->start()) {
            qWarning("caddy did not start:\n%s\n%s", m_caddy->caddyfile().constData(),
                     m_caddy->log().constData());
            return false;
        }
        return true;
    }

    StreamRecorder *subscribe(quint16 port)
    {
        auto stream = std::make_unique<StreamRecorder>(port, m_clock);
        if (!stream->open())
            return nullptr;
        m_streams.push_back(std::move(stream));
        return m_streams.back().get();
    }

    QList<StreamRecorder *> subscribeToEachInstance()
    {
        QList<StreamRecorder *> streams;
        for (const auto &instance : m_instances)
            if (StreamRecorder *stream = subscribe(instance->port()))
                streams.append(stream);
        return streams;
    }

    // Waits until /peers.json is the same, byte for byte, on every port and `expected` holds
    // for it; returns it, or nothing when that did not happen in time.
    static QByteArray agreedPeers(const QList<quint16> &ports,
                                  const std::function<bool(const QByteArray &)> &expected,
                                  int timeoutMs = 10000)
    {
        QByteArray agreed;
        const bool done = runUntil(
            [&] {
                agreed = peersJsonOf(ports.first());
                for (const quint16 port : ports.mid(1))
                    if (peersJsonOf(port) != agreed)
                        return false;
                return !agreed.isEmpty() && expected(agreed);
            },
            timeoutMs);
        if (!done) {
            for (const quint16 port : ports)
                qWarning("/peers.json on %d: %s", port, peersJsonOf(port).constData());
            return {};
        }
        return agreed;
    }

    // An instance with a libp2p host (and so a rendezvous point) of its own key.
    ServerProcess *startLibp2pInstance()
    {
        const QString key =
            m_keys.filePath(QStringLiteral("libp2p-%1.key").arg(m_instances.size()));
        return startInstance({"--libp2p-listen", "/ip4/127.0.0.1/tcp/0", "--libp2p-key", key});
    }

    static QString libp2pAddressOf(ServerProcess *instance)
    {
        static const QRegularExpression listening(QStringLiteral("libp2p listening on (\\S+)"));
        return listening.match(QString::fromUtf8(instance->log())).captured(1);
    }

    // The peer IDs /rendezvous.json shows in `ns`.
    static QStringList registeredIn(quint16 port, const QString &ns)
    {
        HttpClient http(port);
        const QJsonObject view =
            QJsonDocument::fromJson(http.get("/rendezvous.json").body).object();
        QStringList peers;
        for (const QJsonValue &group : view["namespaces"].toArray()) {
            if (group["namespace"].toString() != ns)
                continue;
            for (const QJsonValue &registration : group["registrations"].toArray())
                peers.append(registration["peer_id"].toString());
        }
        return peers;
    }

    QList<quint16> instancePorts() const
    {
        QList<quint16> ports;
        for (const auto &instance : m_instances)
            ports.append(instance->port());
        return ports;
    }

private Q_SLOTS:
    void init() { m_clock.start(); }

    void cleanup()
    {
        if (QTest::currentTestFailed()) {
            for (const auto &instance : m_instances)
                qWarning("log of the instance on port %d (last 4000 bytes):\n%s", instance->port(),
                         instance->log().right(4000).constData());
            if (m_caddy)
                qWarning("caddy log (last 2000 bytes):\n%s",
                         m_caddy->log().right(2000).constData());
        }
        m_streams.clear();
        m_caddy.reset();
        m_instances.clear();
        m_redis.reset();
    }

    // Peers publish through Caddy (round-robin over three instances); subscribers attached to
    // each instance directly, and one through Caddy, receive every event once, and every
    // instance answers the same /peers.json.
    void publishesThroughCaddyReachEverySubscriber()
    {
        QVERIFY(startCluster(3));
        QVERIFY(startCaddy());
        QList<StreamRecorder *> streams = subscribeToEachInstance();
        QCOMPARE(streams.size(), 3);
        StreamRecorder *viaCaddy = subscribe(m_caddy->port());
        QVERIFY(viaCaddy);
        streams.append(viaCaddy);

        HttpClient http(m_caddy->port());
        QList<QByteArray> published;
        const auto publish = [&](const char *type, const QByteArray &peerId,
                                 const QByteArray &content = {}) {
            const QByteArray body = message(type, peerId, content);
            published.append(keyOf(body));
            return http.post("/publish", body).status;
        };
        for (int i = 0; i < 10; ++i)
            QCOMPARE(
                publish("online", "p" + QByteArray::number(i), "first " + QByteArray::number(i)),
                204);
        for (int i = 0; i < 10; ++i)
            QCOMPARE(
                publish("update", "p" + QByteArray::number(i), "second " + QByteArray::number(i)),
                204);
        for (int i = 0; i < 10; i += 2)
            QCOMPARE(publish("offline", "p" + QByteArray::number(i)), 204);

        // Caddy spread the publishes: each instance accepted some itself (logged at info).
        static const QRegularExpression accepted(QStringLiteral("peer \"p\\d+\" online \""));
        for (const auto &instance : m_instances)
            QVERIFY2(QString::fromUtf8(instance->log()).contains(accepted),
                     qPrintable(QStringLiteral("no publish reached the instance on port %1")
                                    .arg(instance->port())));

        const qsizetype total = published.size();
        QVERIFY(runUntil(
            [&] {
                return std::all_of(streams.cbegin(), streams.cend(),
                                   [&](StreamRecorder *s) { return s->events().size() >= total; });
            },
            10000));
        runFor(300); // nothing more may come: no event twice
        const QList<QByteArray> reference = sorted(streams.first()->data());
        for (StreamRecorder *stream : std::as_const(streams)) {
            QCOMPARE(sorted(keysOf(stream->data())), sorted(published));
            QCOMPARE(sorted(stream->data()), reference); // the same bytes everywhere
        }

        // A subscriber sees each peer's events in the order they were accepted (each publish
        // had its 204 before the next was sent), whichever instance accepted them.
        for (StreamRecorder *stream : std::as_const(streams)) {
            QMap<QByteArray, QByteArrayList> typesByPeer;
            for (const QByteArray &event : stream->data())
                typesByPeer[peerIdOf(event)].append(typeOf(event));
            for (auto it = typesByPeer.cbegin(); it != typesByPeer.cend(); ++it) {
                const QByteArray expected =
                    it.key().right(1).toInt() % 2 == 0 ? "online,update,offline" : "online,update";
                QVERIFY2(it.value().join(',') == expected,
                         qPrintable(QStringLiteral("stream on port %1, peer %2: %3")
                                        .arg(stream->port())
                                        .arg(QString::fromUtf8(it.key()),
                                             QString::fromUtf8(it.value().join(',')))));
            }
        }

        const QByteArray peers =
            agreedPeers(instancePorts() << m_caddy->port(), [](const QByteArray &json) {
                return peerIdsIn(json) == QSet<QByteArray>{"p1", "p3", "p5", "p7", "p9"};
            });
        QVERIFY(!peers.isEmpty());
        for (const QJsonValue &row : QJsonDocument::fromJson(peers).array()) {
            QCOMPARE(row["type"].toString(), QStringLiteral("update"));
            QCOMPARE(row["content"].toString(),
                     QStringLiteral("second ") + row["peer_id"].toString().right(1));
        }
    }

    // An ID this instance has not read from the cluster yet (another instance sent it a moment
    // ago) is waited for: the stream resumes once the instance has it. One that never comes is
    // told `reset` after a few seconds, with a snapshot.
    void resumeWaitsForAnIdFromTheClusterItHasNotRead()
    {
        QVERIFY(startCluster(2));
        HttpClient http(m_instances[0]->port());
        QCOMPARE(http.post("/publish", message("online", "early")).status, 204);
        // Stream entry IDs start with Redis's clock in ms: this one is a second ahead.
        const QByteArray soon =
            QByteArray::number(QDateTime::currentMSecsSinceEpoch() + 1000) + "-0";
        StreamRecorder waiting(m_instances[1]->port(), m_clock);
        QVERIFY(waiting.open(5000, "Last-Event-ID: " + soon + "\r\n"));
        runFor(1500);
        QVERIFY(waiting.events().isEmpty()); // nothing yet: the instance has not reached it
        QCOMPARE(http.post("/publish", message("update", "later")).status, 204);
        QVERIFY(runUntil([&] { return waiting.events().size() >= 2; }, 5000));
        QCOMPARE(waiting.events()[0].type, QByteArray("resumed"));
        QCOMPARE(waiting.events()[0].data, QByteArray("{\"replayed\":1}"));
        QCOMPARE(peerIdOf(waiting.events()[1].data), QByteArray("later"));

        const QByteArray never =
            QByteArray::number(QDateTime::currentMSecsSinceEpoch() + 600000) + "-0";
        StreamRecorder givenUp(m_instances[1]->port(), m_clock);
        QVERIFY(givenUp.open(5000, "Last-Event-ID: " + never + "\r\n"));
        QVERIFY(runUntil([&] { return givenUp.events().size() >= 2; }, 10000));
        QCOMPARE(givenUp.events()[0].type, QByteArray("reset"));
        QVERIFY(givenUp.events()[0].data.contains("has not received from the cluster"));
        QCOMPARE(givenUp.events()[1].type, QByteArray("snapshot"));
    }

    // A subscriber cut off from one instance while publishes keep coming through Caddy resumes
    // on another with its last ID (and a second one through Caddy, wherever round-robin sends
    // it): each gets exactly what a subscriber that never left got, in order, once. The IDs are
    // the cluster's stream entries, the same event on every instance.
    void resumeOnAnotherInstance()
    {
        QVERIFY(startCluster(3));
        QVERIFY(startCaddy());
        StreamRecorder *steady = subscribe(m_instances[0]->port());
        StreamRecorder *cutHere = subscribe(m_instances[1]->port());
        StreamRecorder *cutViaCaddy = subscribe(m_caddy->port());
        QVERIFY(steady && cutHere && cutViaCaddy);

        HttpClient http(m_caddy->port());
        int published = 0;
        const auto publishSome = [&](int count) {
            for (int i = 0; i < count; ++i, ++published) {
                const QByteArray peer = "p" + QByteArray::number(published % 9);
                if (http.post("/publish", message(published % 4 ? "update" : "online", peer,
                                                  QByteArray::number(published)))
                        .status != 204)
                    return false;
                runFor(1);
            }
            return true;
        };
        QVERIFY(publishSome(60));
        // All three: the steady stream's 60th event is compared below, and instances read the
        // cluster's stream each at its own pace.
        QVERIFY(runUntil(
            [&] {
                return steady->data().size() >= 60 && cutHere->data().size() >= 60 &&
                       cutViaCaddy->data().size() >= 60;
            },
            10000));
        const auto before = [](StreamRecorder *s) { return s->data(); };
        const QList<QByteArray> hereBefore = before(cutHere);
        const QList<QByteArray> caddyBefore = before(cutViaCaddy);
        const QByteArray hereId = cutHere->events().last().id;
        const QByteArray caddyId = cutViaCaddy->events().last().id;
        QCOMPARE(hereId, steady->events()[59].id); // one ID for one event, cluster-wide
        cutHere->close();
        cutViaCaddy->close();
        QVERIFY(publishSome(60)); // missed

        StreamRecorder resumedElsewhere(m_instances[2]->port(), m_clock);
        QVERIFY(resumedElsewhere.open(5000, "Last-Event-ID: " + hereId + "\r\n"));
        StreamRecorder resumedViaCaddy(m_caddy->port(), m_clock);
        QVERIFY(resumedViaCaddy.open(5000, "Last-Event-ID: " + caddyId + "\r\n"));
        QVERIFY(publishSome(60)); // live again

        QVERIFY(runUntil(
            [&] {
                return steady->data().size() >= 180 && resumedElsewhere.data().size() >= 120 &&
                       resumedViaCaddy.data().size() >= 120;
            },
            15000));
        runFor(300); // nothing more may come: no event twice
        QCOMPARE(steady->data().size(), 180);
        for (StreamRecorder *resumed : {&resumedElsewhere, &resumedViaCaddy}) {
            QCOMPARE(resumed->events().first().type, QByteArray("resumed"));
            QCOMPARE(resumed->events().first().data, QByteArray("{\"replayed\":60}"));
        }
        QCOMPARE(hereBefore + resumedElsewhere.data(), steady->data());
        QCOMPARE(caddyBefore + resumedViaCaddy.data(), steady->data());
        QCOMPARE(resumedElsewhere.events().last().id, steady->events().last().id);
    }

    // One peer's publishes land on different instances in quick succession (as through a
    // round-robin proxy), each sent after the 204 of the one before. An instance answers 204
    // once the publish is in the cluster's order, so every subscriber sees every event of each
    // peer in the order they were accepted, and ends with the same view as /peers.json, which
    // is the same on every instance.
    void samePeerAcrossInstancesKeepsItsOrder()
    {
        QVERIFY(startCluster(3));
        const QList<StreamRecorder *> streams = subscribeToEachInstance();
        QCOMPARE(streams.size(), 3);
        std::vector<std::unique_ptr<HttpClient>> clients;
        for (const auto &instance : m_instances)
            clients.push_back(std::make_unique<HttpClient>(instance->port()));
        constexpr int peers = 30;
        const auto leaves = [](const QByteArray &peerId) { return peerId.mid(1).toInt() % 2 == 0; };
        for (int i = 0; i < peers; ++i) {
            const QByteArray peerId = "s" + QByteArray::number(i);
            QCOMPARE(clients[i % 3]->post("/publish", message("online", peerId, "1")).status, 204);
            QCOMPARE(clients[(i + 1) % 3]->post("/publish", message("update", peerId, "2")).status,
                     204);
            if (leaves(peerId))
                QCOMPARE(clients[(i + 2) % 3]->post("/publish", message("offline", peerId)).status,
                         204);
        }
        // Every subscriber ends with each peer's last event.
        const auto lastOf = [&](const QByteArray &peerId) -> QByteArray {
            return leaves(peerId) ? "offline" : "update2";
        };
        const auto sequences = [](StreamRecorder *stream) {
            QMap<QByteArray, QByteArrayList> sequence;
            for (const QByteArray &event : stream->data()) {
                const QByteArray content =
                    QJsonDocument::fromJson(event).object()["content"].toString().toUtf8();
                sequence[peerIdOf(event)].append(typeOf(event) + content);
            }
            return sequence;
        };
        QVERIFY(runUntil(
            [&] {
                return std::all_of(streams.cbegin(), streams.cend(), [&](StreamRecorder *s) {
                    const auto sequence = sequences(s);
                    return sequence.size() == peers &&
                           std::all_of(sequence.keyValueBegin(), sequence.keyValueEnd(),
                                       [&](const auto &entry) {
                                           return entry.second.last() == lastOf(entry.first);
                                       });
                });
            },
            10000));
        runFor(300); // nothing else may follow

        // The state ends with each peer's last publish: odd peers as `update` "2", even ones gone.
        const QByteArray agreed =
            agreedPeers(instancePorts(), [](const QByteArray &) { return true; });
        QVERIFY(!agreed.isEmpty());
        QStringList wrongRows;
        QSet<QByteArray> present;
        for (const QJsonValue &row : QJsonDocument::fromJson(agreed).array()) {
            const QByteArray peerId = row["peer_id"].toString().toUtf8();
            present.insert(peerId);
            if (leaves(peerId) || row["type"].toString() != QStringLiteral("update") ||
                row["content"].toString() != QStringLiteral("2"))
                wrongRows.append(QString::fromUtf8(peerId + " (" + row["type"].toString().toUtf8() +
                                                   ' ' + row["content"].toString().toUtf8() + ')'));
        }
        for (int i = 1; i < peers; i += 2)
            if (!present.contains("s" + QByteArray::number(i)))
                wrongRows.append(QStringLiteral("s%1 (missing)").arg(i));
        QVERIFY2(wrongRows.isEmpty(), qPrintable(QStringLiteral("/peers.json is wrong for: ") +
                                                 wrongRows.join(QStringLiteral(", "))));

        // In order, each event once, none left out.
        QStringList disorder;
        int overtaken = 0;
        for (StreamRecorder *stream : streams) {
            const auto sequence = sequences(stream);
            for (auto it = sequence.cbegin(); it != sequence.cend(); ++it) {
                const QByteArrayList accepted =
                    leaves(it.key()) ? QByteArrayList{"online1", "update2", "offline"}
                                     : QByteArrayList{"online1", "update2"};
                qsizetype at = 0;
                bool inOrder = true;
                for (const QByteArray &event : it.value()) {
                    while (at < accepted.size() && accepted[at] != event)
                        ++at;
                    inOrder = inOrder && at < accepted.size();
                    ++at;
                }
                overtaken += int(accepted.size() - it.value().size());
                if (!inOrder)
                    disorder.append(QStringLiteral("port %1 %2: %3")
                                        .arg(stream->port())
                                        .arg(QString::fromUtf8(it.key()),
                                             QString::fromUtf8(it.value().join(','))));
            }
        }
        QVERIFY2(disorder.isEmpty(), qPrintable(QStringLiteral("out of order: ") +
                                                disorder.join(QStringLiteral("; "))));
        QCOMPARE(overtaken, 0);
    }

    // An instance started later serves the cluster's peers from its first request, and joins
    // the event flow both ways.
    void newInstanceStartsWithCurrentPeerSet()
    {
        QVERIFY(startCluster(2));
        for (int i = 0; i < 20; ++i) {
            HttpClient http(m_instances[i % 2]->port());
            QCOMPARE(http.post("/publish", message("online", "n" + QByteArray::number(i),
                                                   "label " + QByteArray::number(i)))
                         .status,
                     204);
        }
        const QByteArray before = agreedPeers(
            instancePorts(), [](const QByteArray &json) { return peerIdsIn(json).size() == 20; });
        QVERIFY(!before.isEmpty());

        ServerProcess *late = startInstance();
        QVERIFY(late);
        QCOMPARE(peersJsonOf(late->port()), before); // its very first answer
        QVERIFY(late->log().contains("cluster: connected to"));
        QVERIFY(late->log().contains("20 peers loaded"));
        QVERIFY(!late->log().contains("starting without the cluster's state"));

        StreamRecorder *onFirst = subscribe(m_instances[0]->port());
        StreamRecorder *onLate = subscribe(late->port());
        QVERIFY(onFirst && onLate);
        HttpClient toLate(late->port());
        HttpClient toFirst(m_instances[0]->port());
        QCOMPARE(toLate.post("/publish", message("online", "from-late")).status, 204);
        QCOMPARE(toFirst.post("/publish", message("online", "from-first")).status, 204);
        const auto both = [](StreamRecorder *s) { return s->events().size() >= 2; };
        QVERIFY(runUntil([&] { return both(onFirst) && both(onLate); }, 5000));
        QCOMPARE(sorted(keysOf(onFirst->data())),
                 (QList<QByteArray>{"online from-first ", "online from-late "}));
        QCOMPARE(sorted(keysOf(onLate->data())), sorted(keysOf(onFirst->data())));
    }

    // The libp2p rendezvous point's registrations are the cluster's: a peer registered at one
    // instance is discovered, over the wire, at another and shown in its /rendezvous.json, an
    // instance started later has it from the snapshot, and an UNREGISTER reaches them all.
    void rendezvousRegistrationsAcrossInstances()
    {
        m_redis = std::make_unique<RedisProcess>();
        QVERIFY(m_redis->start());
        ServerProcess *first = startLibp2pInstance();
        ServerProcess *second = startLibp2pInstance();
        QVERIFY(first && second);
        const QString ns = QStringLiteral("goop-test/cluster");

        RendezvousClient registrant;
        QVERIFY(registrant.connect(libp2pAddressOf(first)));
        QCOMPARE(registrant.registerIn(ns, 7200), RendezvousMessage::Ok);
        const QStringList expected{registrant.peerId().toText()};
        QVERIFY(runUntil([&] { return registeredIn(second->port(), ns) == expected; }, 5000));
        RendezvousClient seeker;
        QVERIFY(seeker.connect(libp2pAddressOf(second)));
        QCOMPARE(seeker.discover(ns), expected);

        ServerProcess *late = startLibp2pInstance();
        QVERIFY(late);
        QCOMPARE(registeredIn(late->port(), ns), expected); // its very first answer
        QVERIFY(late->log().contains("1 rendezvous registrations loaded"));

        registrant.unregisterFrom(ns);
        QVERIFY(runUntil(
            [&] {
                return registeredIn(second->port(), ns).isEmpty() &&
                       registeredIn(late->port(), ns).isEmpty();
            },
            5000));
        QCOMPARE(seeker.discover(ns), QStringList());
    }

    // Today's clients behind Caddy round-robin: each dials /ws while it publishes (425 until the
    // instance it reaches knows it, then in), heartbeats over its WebSocket, and every
    // subscriber on every instance, SSE or WebSocket, sees every event in one order; a dropped
    // WebSocket ends in exactly one offline for the whole cluster.
    void webSocketsBehindCaddy()
    {
        QVERIFY(startCluster(3, {"--ws-grace", "1s", "--ws-timeout", "60s"}));
        QVERIFY(startCaddy());
        const QList<StreamRecorder *> streams = subscribeToEachInstance();
        QCOMPARE(streams.size(), 3);
        std::vector<std::unique_ptr<WebSocketClient>> sockets;
        int refusedEarly = 0;
        for (int i = 0; i < 3; ++i) {
            const QByteArray peer = "ws" + QByteArray::number(i);
            auto socket = std::make_unique<WebSocketClient>(m_caddy->port());
            QCOMPARE(HttpClient(m_caddy->port()).post("/publish", message("online", peer)).status,
                     204);
            // As today's client: a 425 is retried after 250 ms, never a reason to fall back.
            QElapsedTimer dialling;
            dialling.start();
            while (!socket->open(peer, 2000) && dialling.elapsed() < 10000) {
                ++refusedEarly;
                runFor(250);
                socket = std::make_unique<WebSocketClient>(m_caddy->port());
            }
            QVERIFY2(socket->isOpen(), peer.constData());
            sockets.push_back(std::move(socket));
        }
        qInfo("3 WebSockets through Caddy, %d dials refused first", refusedEarly);
        // Every instance lists the same rows, the WebSocket marks included, and so does one
        // that joins now (from the snapshot).
        const auto onWebSockets = [](int count) {
            return [count](const QByteArray &json) {
                return json.count("\"ws_connected\":true") == count;
            };
        };
        QVERIFY(!agreedPeers(instancePorts(), onWebSockets(3)).isEmpty());
        ServerProcess *late = startInstance({"--ws-grace", "1s", "--ws-timeout", "60s"});
        QVERIFY(late);
        QVERIFY(!agreedPeers(instancePorts(), onWebSockets(3)).isEmpty());
        // Everyone has joined: what follows the marker must be the same everywhere.
        QCOMPARE(HttpClient(m_caddy->port()).post("/publish", message("online", "marker")).status,
                 204);
        const int rounds = 20;
        for (int i = 0; i < rounds; ++i) {
            QCOMPARE(HttpClient(m_caddy->port())
                         .post("/publish", message("update", "poster", QByteArray::number(i)))
                         .status,
                     204);
            for (size_t k = 0; k < sockets.size(); ++k)
                sockets[k]->send(
                    message("update", "ws" + QByteArray::number(int(k)), QByteArray::number(i)));
        }
        const int expected = 1 + rounds * 4;
        const auto fromMarker = [](QList<QByteArray> lines) {
            while (!lines.isEmpty() && keyOf(lines.first()) != "online marker ")
                lines.removeFirst();
            return lines;
        };
        QVERIFY(runUntil(
            [&] {
                for (StreamRecorder *stream : streams)
                    if (fromMarker(stream->data()).size() < expected)
                        return false;
                for (const auto &socket : sockets)
                    if (fromMarker(socket->messages()).size() < expected)
                        return false;
                return true;
            },
            15000));
        const QList<QByteArray> order = fromMarker(streams.first()->data());
        QCOMPARE(order.size(), expected);
        for (StreamRecorder *stream : streams)
            QCOMPARE(fromMarker(stream->data()), order);
        for (const auto &socket : sockets)
            QCOMPARE(fromMarker(socket->messages()), order);

        // One peer's connection drops for good: one offline in the whole cluster.
        sockets.front()->socket().abort();
        QVERIFY(!agreedPeers(instancePorts(), onWebSockets(2)).isEmpty());
        runFor(2500);
        for (StreamRecorder *stream : streams) {
            int offlines = 0;
            for (const QByteArray &line : stream->data())
                offlines += keyOf(line) == "offline ws0 ";
            QCOMPARE(offlines, 1);
        }
    }

    // Punch hints cross the cluster: each reaches its target's WebSocket on whichever instance
    // holds it, once; a target without one gets it on event streams, once per stream.
    void punchHintsAcrossInstances()
    {
        QVERIFY(startCluster(3, {"--ws-timeout", "60s"}));
        const auto addrsOf = [](const char *peer, const char *addr) {
            return QByteArray("{\"type\":\"update\",\"peerId\":\"") + peer + "\",\"addrs\":[\"" +
                   addr + "\"]}";
        };
        for (const char *peer : {"A", "B"})
            QCOMPARE(
                HttpClient(m_instances[0]->port()).post("/publish", message("online", peer)).status,
                204);
        StreamRecorder *onThird = subscribe(m_instances[2]->port());
        QVERIFY(onThird);
        WebSocketClient a(m_instances[0]->port()), b(m_instances[1]->port());
        QVERIFY(a.open("A"));
        QVERIFY(b.open("B"));
        a.send(addrsOf("A", "/ip4/1.1.1.1/tcp/1"));
        QVERIFY(runUntil([&] { return b.messages().size() >= 1; }, 5000));
        b.send(addrsOf("B", "/ip4/2.2.2.2/tcp/2"));
        // C, on no WebSocket, publishes by POST on the third instance.
        QCOMPARE(HttpClient(m_instances[2]->port())
                     .post("/publish", addrsOf("C", "/ip4/3.3.3.3/tcp/3"))
                     .status,
                 204);
        const auto hints = [](const QList<QByteArray> &lines) {
            QStringList found;
            for (const QByteArray &line : lines) {
                const QJsonObject event = QJsonDocument::fromJson(line).object();
                if (event["type"] == QLatin1String("punch"))
                    found << event["peerId"].toString() + '>' + event["target"].toString();
            }
            found.sort();
            return found;
        };
        QVERIFY(runUntil(
            [&] {
                return hints(a.messages()).size() >= 2 && hints(b.messages()).size() >= 2 &&
                       hints(onThird->data()).size() >= 2;
            },
            5000));
        runFor(500); // nothing more, nothing twice
        QCOMPARE(hints(a.messages()), (QStringList{"B>A", "C>A"}));
        QCOMPARE(hints(b.messages()), (QStringList{"A>B", "C>B"}));
        QCOMPARE(hints(onThird->data()), (QStringList{"A>C", "B>C"}));
    }

    // A peer's verification token reaches no other instance and nothing Redis holds; the
    // server's `verified` crosses the cluster, in events and in the rows a new instance loads.
    void serverOwnedFieldsAcrossTheCluster()
    {
        QVERIFY(startCluster(2));
        StreamRecorder *onOther = subscribe(m_instances[1]->port());
        QVERIFY(onOther);
        HttpClient http(m_instances[0]->port());
        QCOMPARE(http.post("/publish", "{\"type\":\"online\",\"peerId\":\"12D3KooWTok\","
                                       "\"verificationToken\":\"SECRET-TOKEN-123\","
                                       "\"verified\":false,\"target\":\"x\"}")
                     .status,
                 204);
        QVERIFY(runUntil([&] { return !onOther->events().isEmpty(); }, 5000));
        const QByteArray event = onOther->data().first();
        QVERIFY2(event.endsWith(",\"verified\":true}") && !event.contains("target"),
                 event.constData());
        QVERIFY(!agreedPeers(instancePorts(), [](const QByteArray &json) {
                     return json.contains("\"verified\":true");
                 }).isEmpty());

        ServerProcess *late = startInstance();
        QVERIFY(late);
        const QJsonObject row =
            QJsonDocument::fromJson(peersJsonOf(late->port())).array()[0].toObject();
        QCOMPARE(row["peer_id"].toString(), QStringLiteral("12D3KooWTok"));
        QCOMPARE(row["verified"].toBool(), true);

        const QByteArray stored = m_redis->command({"EVAL", dumpEverythingScript, "0"});
        QVERIFY2(stored.contains("12D3KooWTok"), stored.constData()); // it did look at the data
        QVERIFY2(!stored.contains("SECRET") && !stored.contains("verificationToken"),
                 stored.constData());
        for (const auto &instance : m_instances)
            QVERIFY(!instance->log().contains("SECRET"));
    }

    // A silent peer is announced offline exactly once on every instance, whichever instance
    // noticed first, with the same bytes everywhere.
    void expiryGivesExactlyOneOfflineClusterWide()
    {
        constexpr int ttlMs = 1500;
        QVERIFY(startCluster(3, {"--peer-ttl", QString::number(ttlMs) + "ms"}));
        const QList<StreamRecorder *> streams = subscribeToEachInstance();
        QCOMPARE(streams.size(), 3);
        QByteArrayList peerIds;
        QElapsedTimer sincePublish;
        sincePublish.start();
        for (int i = 0; i < 6; ++i) {
            peerIds.append("e" + QByteArray::number(i));
            HttpClient http(m_instances[i % 3]->port());
            QCOMPARE(http.post("/publish", message("online", peerIds.last())).status, 204);
        }
        const qint64 publishedAtMs = sincePublish.elapsed();

        const auto offlines = [](StreamRecorder *stream) {
            QList<QByteArray> events;
            for (const QByteArray &event : stream->data())
                if (typeOf(event) == "offline")
                    events.append(event);
            return events;
        };
        QVERIFY(runUntil(
            [&] {
                return std::all_of(streams.cbegin(), streams.cend(),
                                   [&](StreamRecorder *s) { return offlines(s).size() >= 6; });
            },
            ttlMs + 8000));
        const qint64 allOfflineMs = sincePublish.elapsed();
        runFor(2 * ttlMs); // nothing more may come
        QVERIFY2(allOfflineMs >= publishedAtMs + ttlMs - 100,
                 qPrintable(QString::number(allOfflineMs)));
        QVERIFY2(allOfflineMs < ttlMs + 4000, qPrintable(QString::number(allOfflineMs)));

        const QList<QByteArray> reference = sorted(offlines(streams.first()));
        QCOMPARE(sorted(keysOf(reference)), sorted(keysOf([&] {
                     QList<QByteArray> expected;
                     for (const QByteArray &id : std::as_const(peerIds))
                         expected.append(message("offline", id));
                     return expected;
                 }())));
        for (StreamRecorder *stream : streams) {
            QCOMPARE(stream->events().size(), 12);         // 6 online, 6 offline, nothing else
            QCOMPARE(sorted(offlines(stream)), reference); // one event, the same `ts` everywhere
        }

        // Redis holds one expiry per peer, and one instance only says it noticed each.
        QCOMPARE(m_redis->integer({"EVAL", countExpiriesScript, "1", "{goop}:events"}), 6);
        QCOMPARE(m_redis->integer({"HLEN", "{goop}:peers"}), 0);
        QStringList noticedBy;
        for (const QByteArray &peerId : std::as_const(peerIds)) {
            const QByteArray line = "peer \"" + peerId + "\" expired";
            int noticed = 0;
            for (const auto &instance : m_instances) {
                for (const QByteArray &logLine : instance->log().split('\n')) {
                    if (logLine.contains(line) && logLine.contains("(noticed by this instance)")) {
                        ++noticed;
                        noticedBy.append(QString::fromUtf8(peerId) + "@" +
                                         QString::number(instance->port()));
                    }
                }
            }
            QVERIFY2(noticed == 1, line.constData());
        }
        qInfo("expiry noticed by: %s", qPrintable(noticedBy.join(' ')));
        for (const quint16 port : instancePorts())
            QCOMPARE(peersJsonOf(port), QByteArray("[]\n"));
    }

    // SIGKILL one instance: every publish that Caddy answered 204 reaches the subscribers of
    // the two others, and Caddy soon sends nothing to the dead one.
    void killedInstanceLosesNoEventAndCaddyRoutesAround()
    {
        QVERIFY(startCluster(3));
        QVERIFY(startCaddy());
        const QList<StreamRecorder *> streams = subscribeToEachInstance();
        QCOMPARE(streams.size(), 3);
        HttpClient http(m_caddy->port());
        QList<QByteArray> accepted;
        for (int i = 0; i < 6; ++i) {
            const QByteArray body = message("online", "w" + QByteArray::number(i));
            QCOMPARE(http.post("/publish", body).status, 204);
            accepted.append(keyOf(body));
        }
        QVERIFY(runUntil(
            [&] {
                return std::all_of(streams.cbegin(), streams.cend(),
                                   [](StreamRecorder *s) { return s->events().size() >= 6; });
            },
            5000));

        ServerProcess *victim = m_instances[2].get();
        QCOMPARE(::kill(static_cast<pid_t>(victim->pid()), SIGKILL), 0);
        QElapsedTimer sinceKill;
        sinceKill.start();

        // While Caddy finds out, a publish may fail (502): a client sends it again.
        int failures = 0;
        int sent = 0;
        while (sinceKill.elapsed() < 3 * CaddyProcess::healthIntervalMs) {
            const QByteArray body = message("update", "k" + QByteArray::number(sent % 10),
                                            "k" + QByteArray::number(sent));
            ++sent;
            for (int attempt = 0;; ++attempt) {
                QVERIFY2(attempt < 20, "Caddy kept failing the same publish");
                const int status = http.post("/publish", body).status;
                if (status == 204)
                    break;
                QVERIFY2(status == 502 || status == 503 || status == 0,
                         qPrintable(QString::number(status)));
                ++failures;
                runFor(50);
            }
            accepted.append(keyOf(body));
            runFor(20);
        }
        // By now Caddy routes around the dead instance: nothing fails any more.
        for (int i = 0; i < 30; ++i) {
            const QByteArray body =
                message("update", "r" + QByteArray::number(i % 5), "r" + QByteArray::number(i));
            QCOMPARE(http.post("/publish", body).status, 204);
            accepted.append(keyOf(body));
        }
        qInfo("after SIGKILL of one instance: %d publishes through Caddy, %d failed attempts "
              "(resent) while Caddy noticed",
              sent + 30, failures);

        const QList<StreamRecorder *> survivors{streams[0], streams[1]};
        QVERIFY(runUntil(
            [&] {
                return std::all_of(survivors.cbegin(), survivors.cend(), [&](StreamRecorder *s) {
                    return s->events().size() >= accepted.size();
                });
            },
            10000));
        runFor(300);
        for (StreamRecorder *stream : survivors)
            QCOMPARE(sorted(keysOf(stream->data())), sorted(accepted));
        QVERIFY(!streams[2]->isConnected());

        const QByteArray peers = agreedPeers(
            {m_instances[0]->port(), m_instances[1]->port(), m_caddy->port()},
            [](const QByteArray &json) { return peerIdsIn(json).size() == 6 + 10 + 5; });
        QVERIFY(!peers.isEmpty());
    }

    // Redis restarts empty: the instances keep serving meanwhile, reconnect by themselves,
    // send their peers again, and end with the full set everywhere (and in Redis).
    void redisRestartRecoversWithoutRestartingInstances()
    {
        QVERIFY(startCluster(3));
        const QList<StreamRecorder *> streams = subscribeToEachInstance();
        QCOMPARE(streams.size(), 3);
        QSet<QByteArray> all;
        for (int i = 0; i < 9; ++i) {
            const QByteArray peerId = "b" + QByteArray::number(i);
            HttpClient http(m_instances[i % 3]->port());
            QCOMPARE(http.post("/publish", message("online", peerId)).status, 204);
            all.insert(peerId);
        }
        QVERIFY(runUntil(
            [&] {
                return std::all_of(streams.cbegin(), streams.cend(),
                                   [](StreamRecorder *s) { return s->events().size() >= 9; });
            },
            5000));

        m_redis->kill();
        for (const auto &instance : m_instances)
            QVERIFY(instance->waitForLog("unavailable", 5000));
        // Alone meanwhile, each instance still accepts publishes.
        for (int i = 0; i < 3; ++i) {
            const QByteArray peerId = "during" + QByteArray::number(i);
            HttpClient http(m_instances[i]->port());
            QCOMPARE(http.post("/publish", message("online", peerId)).status, 204);
            all.insert(peerId);
        }
        runFor(300);
        QVERIFY(m_redis->start());
        QElapsedTimer sinceRestart;
        sinceRestart.start();
        for (const auto &instance : m_instances)
            QVERIFY(instance->waitForLog("is back after", 15000));

        const QByteArray peers = agreedPeers(
            instancePorts(), [&](const QByteArray &json) { return peerIdsIn(json) == all; });
        QVERIFY(!peers.isEmpty());
        qInfo("after the Redis restart, all instances agreed on %lld peers %lld ms later",
              static_cast<long long>(all.size()), static_cast<long long>(sinceRestart.elapsed()));
        QCOMPARE(m_redis->integer({"HLEN", "{goop}:peers"}), all.size());
        QCOMPARE(m_redis->integer({"ZCARD", "{goop}:seen"}), all.size());

        // Every subscriber learns of every peer, and no peer is announced offline: none went.
        const auto onlineIn = [](StreamRecorder *stream) {
            QSet<QByteArray> seen;
            for (const QByteArray &event : stream->data())
                if (typeOf(event) == "online")
                    seen.insert(peerIdOf(event));
            return seen;
        };
        runUntil(
            [&] {
                return std::all_of(streams.cbegin(), streams.cend(),
                                   [&](StreamRecorder *s) { return onlineIn(s) == all; });
            },
            5000);
        for (StreamRecorder *stream : streams) {
            QList<QByteArray> offline;
            for (const QByteArray &event : stream->data())
                if (typeOf(event) == "offline")
                    offline.append(peerIdOf(event));
            QVERIFY2(onlineIn(stream) == all,
                     qPrintable(
                         QStringLiteral("stream on port %1 was told of %2 only")
                             .arg(stream->port())
                             .arg(QString::fromUtf8(sorted(onlineIn(stream).values()).join(' ')))));
            QVERIFY2(offline.isEmpty(),
                     qPrintable(QStringLiteral("stream on port %1 announced %2 offline: %3")
                                    .arg(stream->port())
                                    .arg(offline.size())
                                    .arg(QString::fromUtf8(QByteArrayList(offline).join(' ')))));
        }

        // And events flow between instances again.
        const qsizetype before = streams[2]->events().size();
        HttpClient http(m_instances[0]->port());
        QCOMPARE(http.post("/publish", message("update", "b1", "after")).status, 204);
        QVERIFY(runUntil([&] { return streams[2]->events().size() > before; }, 5000));
        QCOMPARE(keyOf(streams[2]->events().last().data), QByteArray("update b1 after"));
    }

    // Every publish an instance takes while Redis is away is announced only there; once Redis
    // is back, every subscriber has each peer's newest state, whether Redis came back empty or
    // with its data: what another instance took and something newer overtook is not sent late
    // (it would set a client's view of the peer back), and nothing arrives twice or out of order.
    void publishesHeldThroughARedisOutageLeaveEverySubscriberWithTheNewestState_data()
    {
        QTest::addColumn<bool>("keepsItsData");
        QTest::newRow("restarted empty") << false;
        QTest::newRow("restarted with its data") << true;
    }

    void publishesHeldThroughARedisOutageLeaveEverySubscriberWithTheNewestState()
    {
        QFETCH(bool, keepsItsData);
        QVERIFY(startCluster(3));
        const QList<StreamRecorder *> streams = subscribeToEachInstance();
        QCOMPARE(streams.size(), 3);
        QCOMPARE(HttpClient(m_instances[0]->port()).post("/publish", message("online", "p")).status,
                 204);
        const auto haveAll = [&](const QList<QByteArray> &keys) {
            return std::all_of(streams.cbegin(), streams.cend(), [&](StreamRecorder *stream) {
                const QList<QByteArray> got = keysOf(stream->data());
                return std::all_of(keys.cbegin(), keys.cend(),
                                   [&](const QByteArray &key) { return got.contains(key); });
            });
        };
        QVERIFY(runUntil([&] { return haveAll({"online p "}); }, 5000));

        if (keepsItsData)
            QCOMPARE(m_redis->command({"SAVE"}), QByteArray("+OK\r\n"));
        m_redis->kill();
        for (const auto &instance : m_instances)
            QVERIFY(instance->waitForLog("unavailable", 5000));
        // One peer's heartbeats, round robin over the instances as a balancer sends them, and
        // a peer joining on each.
        QList<QByteArray> joined;
        for (int i = 0; i < 9; ++i) {
            const QByteArray content = "beat " + QByteArray::number(i);
            HttpClient http(m_instances[i % 3]->port());
            QCOMPARE(http.post("/publish", message("update", "p", content)).status, 204);
        }
        for (int i = 0; i < 3; ++i) {
            const QByteArray peerId = "joined" + QByteArray::number(i);
            HttpClient http(m_instances[i]->port());
            QCOMPARE(http.post("/publish", message("online", peerId)).status, 204);
            joined.append("online " + peerId + ' ');
        }
        runFor(300);
        QVERIFY(m_redis->start());
        for (const auto &instance : m_instances)
            QVERIFY(instance->waitForLog("is back after", 15000));

        runUntil([&] { return haveAll(joined + QList<QByteArray>{"update p beat 8"}); }, 10000);
        runFor(500); // nothing late may follow
        for (int s = 0; s < streams.size(); ++s) {
            const QList<QByteArray> got = keysOf(streams[s]->data());
            const auto why = [&](const QString &what) {
                return qPrintable(QStringLiteral("stream on instance %1 %2: %3")
                                      .arg(s)
                                      .arg(what, QString::fromUtf8(got.join(" | "))));
            };
            for (const QByteArray &key : joined)
                QVERIFY2(got.count(key) == 1, why(QString::fromUtf8(key) + " not once"));
            // p's heartbeats: those its own instance took at once, then whatever was newest when
            // the instances came back (one by one), each once and in order, ending with the
            // newest. (A late one would be older than one already seen.)
            int previous = -1;
            for (const QByteArray &key : got) {
                if (!key.startsWith("update p beat "))
                    continue;
                const int beat = key.mid(14).toInt();
                QVERIFY2(beat > previous, why(QStringLiteral("went back to beat %1").arg(beat)));
                previous = beat;
            }
            QVERIFY2(previous == 8, why(QStringLiteral("never got the newest")));
            QVERIFY2(!got.join('|').contains("offline"), why(QStringLiteral("an offline")));
        }
        const QByteArray peers = agreedPeers(instancePorts(), [](const QByteArray &json) {
            return json.contains("\"content\":\"beat 8\"");
        });
        QVERIFY2(!peers.isEmpty(), "the instances do not agree on the newest heartbeat");
    }

    // While Redis is away each instance hears only the heartbeats sent to it: a peer that keeps
    // beating on one instance must not go offline on the others, which cannot know. A peer that
    // truly went silent is expired once, cluster-wide, when Redis is back.
    void noPeerExpiresForHeartbeatsTakenElsewhereWhileRedisIsAway()
    {
        constexpr int ttlMs = 1000;
        QVERIFY(startCluster(3, {"--peer-ttl", QString::number(ttlMs) + "ms"}));
        const QList<StreamRecorder *> streams = subscribeToEachInstance();
        QCOMPARE(streams.size(), 3);
        HttpClient first(m_instances[0]->port());
        QCOMPARE(first.post("/publish", message("online", "beating")).status, 204);
        QCOMPARE(first.post("/publish", message("online", "silent")).status, 204);
        m_redis->kill();
        for (const auto &instance : m_instances)
            QVERIFY(instance->waitForLog("unavailable", 5000));
        // "beating" heartbeats on instance 0 only, from now to the end.
        QTimer beat;
        connect(&beat, &QTimer::timeout, this, [&] {
            QCOMPARE(first.post("/publish", message("update", "beating")).status, 204);
        });
        beat.start(ttlMs / 4);
        runFor(3 * ttlMs);
        for (StreamRecorder *stream : streams)
            QVERIFY2(!stream->data().join('|').contains("\"offline\""),
                     qPrintable(QStringLiteral("port %1 announced an offline while Redis was "
                                               "away: %2")
                                    .arg(stream->port())
                                    .arg(QString::fromUtf8(stream->data().join(" | ")))));
        QVERIFY(m_redis->start());
        for (const auto &instance : m_instances)
            QVERIFY(instance->waitForLog("is back after", 15000));
        const auto offlinesOf = [](StreamRecorder *stream, const QByteArray &peerId) {
            return int(keysOf(stream->data()).count("offline " + peerId + ' '));
        };
        // After the grace that lets every instance come back (12 s), the cluster expires it.
        QVERIFY(runUntil(
            [&] {
                return std::all_of(streams.cbegin(), streams.cend(),
                                   [&](StreamRecorder *s) { return offlinesOf(s, "silent") == 1; });
            },
            30000));
        runFor(ttlMs);
        beat.stop();
        for (StreamRecorder *stream : streams) {
            QCOMPARE(offlinesOf(stream, "silent"), 1);
            QCOMPARE(offlinesOf(stream, "beating"), 0);
        }
    }

    // Back from an outage, the first instances may not expire a peer whose newer heartbeats sit
    // with an instance that is not back yet: here instance 0, stopped (SIGSTOP) while Redis
    // restarts, holds the only heartbeats of "beating" since the outage began.
    void theFirstBackDoNotExpireAPeerAnotherInstanceStillHolds()
    {
        constexpr int ttlMs = 2000; // 12 s alone while Redis is away
        QVERIFY(startCluster(3, {"--peer-ttl", QString::number(ttlMs) + "ms"}));
        const QList<StreamRecorder *> streams = subscribeToEachInstance();
        QCOMPARE(streams.size(), 3);
        HttpClient first(m_instances[0]->port());
        QCOMPARE(first.post("/publish", message("online", "beating")).status, 204);
        m_redis->kill();
        for (const auto &instance : m_instances)
            QVERIFY(instance->waitForLog("unavailable", 5000));
        for (int i = 0; i < 8; ++i) {
            QCOMPARE(first.post("/publish", message("update", "beating")).status, 204);
            runFor(ttlMs / 8);
        }
        ::kill(pid_t(m_instances[0]->pid()), SIGSTOP);
        QVERIFY(m_redis->start());
        for (int i = 1; i < 3; ++i)
            QVERIFY(m_instances[i]->waitForLog("is back after", 15000));
        runFor(ttlMs); // "beating" is now overdue everywhere but on instance 0
        ::kill(pid_t(m_instances[0]->pid()), SIGCONT);
        QVERIFY(m_instances[0]->waitForLog("is back after", 15000));
        QTimer beat;
        connect(&beat, &QTimer::timeout, this, [&] {
            QCOMPARE(first.post("/publish", message("update", "beating")).status, 204);
        });
        beat.start(ttlMs / 4);
        runFor(3 * ttlMs);
        beat.stop();
        for (StreamRecorder *stream : streams)
            QVERIFY2(!keysOf(stream->data()).contains("offline beating "),
                     qPrintable(QStringLiteral("port %1 announced \"beating\" offline: %2")
                                    .arg(stream->port())
                                    .arg(QString::fromUtf8(stream->data().join(" | ")))));
    }

    // Publish on one instance, measure until the subscribers of the two others have the event.
    // The issue asks for under 50 ms at p99; the bound here is loose for a busy test machine,
    // and the figure is printed.
    void deliveryLatencyAcrossInstances()
    {
        QVERIFY(startCluster(3));
        const QList<StreamRecorder *> streams = subscribeToEachInstance();
        QCOMPARE(streams.size(), 3);
        std::vector<std::unique_ptr<QTcpSocket>> publishers;
        QList<int> responses(3, 0);
        for (int i = 0; i < 3; ++i) {
            auto socket = std::make_unique<QTcpSocket>();
            socket->connectToHost(QHostAddress::LocalHost, m_instances[i]->port());
            QVERIFY(socket->waitForConnected(5000));
            connect(socket.get(), &QTcpSocket::readyRead, this, [&responses, i, s = socket.get()] {
                responses[i] += static_cast<int>(s->readAll().count("HTTP/1.1 204"));
            });
            publishers.push_back(std::move(socket));
        }

        constexpr int warmUp = 30;
        constexpr int rounds = 330;
        QList<double> remoteMs;
        QList<double> localMs;
        QList<int> expectedResponses(3, 0);
        for (int round = 0; round < rounds; ++round) {
            const int from = round % 3;
            const QByteArray body = message("update", "lat" + QByteArray::number(round % 20),
                                            "r" + QByteArray::number(round));
            const QByteArray key = keyOf(body);
            QList<qsizetype> seenBefore;
            for (StreamRecorder *stream : streams)
                seenBefore.append(stream->events().size());
            const qint64 sentAt = m_clock.nsecsElapsed();
            publishers[from]->write(
                "POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                QByteArray::number(body.size()) + "\r\n\r\n" + body);
            publishers[from]->flush();
            ++expectedResponses[from];
            const auto arrived = [&](int s) { return streams[s]->events().size() > seenBefore[s]; };
            QVERIFY2(runUntil(
                         [&] {
                             return arrived(0) && arrived(1) && arrived(2) &&
                                    responses[from] == expectedResponses[from];
                         },
                         5000),
                     qPrintable(QStringLiteral("round %1 was not delivered").arg(round)));
            for (int s = 0; s < 3; ++s) {
                const StreamRecorder::Received &event = streams[s]->events()[seenBefore[s]];
                QCOMPARE(keyOf(event.data), key);
                if (round < warmUp)
                    continue;
                const double ms = static_cast<double>(event.atNs - sentAt) / 1e6;
                (s == from ? localMs : remoteMs).append(ms);
            }
        }
        const double p50 = percentile(remoteMs, 0.50);
        const double p99 = percentile(remoteMs, 0.99);
        const double max = percentile(remoteMs, 1.0);
        qInfo("publish on one instance -> subscribers on the 2 others (3 instances, %lld "
              "deliveries): p50 %.2f ms, p99 %.2f ms, max %.2f ms; same instance: p50 %.2f ms, "
              "p99 %.2f ms",
              static_cast<long long>(remoteMs.size()), p50, p99, max, percentile(localMs, 0.5),
              percentile(localMs, 0.99));
        QVERIFY2(p99 < 500, qPrintable(QString::number(p99)));
    }

    // Waiting for an unreachable Redis at start must not make the instance deaf to SIGTERM
    // (systemd would have to kill it).
    void stopsWhileWaitingForRedis()
    {
        QProcess server;
        server.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        server.start(ServerProcess::binary(),
                     {QStringLiteral("-addr"), QStringLiteral("127.0.0.1:0"),
                      QStringLiteral("--redis"),
                      QStringLiteral("redis://127.0.0.1:%1/0").arg(freeLoopbackPort())});
        QVERIFY(server.waitForStarted(5000));
        QTest::qWait(300); // inside the start wait for Redis (3 s)
        QElapsedTimer clock;
        clock.start();
        ::kill(static_cast<pid_t>(server.processId()), SIGTERM);
        QVERIFY(server.waitForFinished(5000));
        QCOMPARE(server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.exitCode(), 0);
        QVERIFY2(clock.elapsed() < 2000, qPrintable(QString::number(clock.elapsed())));
    }

private:
    QElapsedTimer m_clock;
    std::unique_ptr<RedisProcess> m_redis;
    std::vector<std::unique_ptr<ServerProcess>> m_instances;
    std::unique_ptr<CaddyProcess> m_caddy;
    std::vector<std::unique_ptr<StreamRecorder>> m_streams;
    QTemporaryDir m_keys; // the instances' libp2p keys
};

QTEST_GUILESS_MAIN(TestCluster)
#include "tst_cluster.moc"
