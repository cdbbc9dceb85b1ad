// Event IDs, resuming with Last-Event-ID and starting from a snapshot, against the real server:
// a subscriber cut off while events keep flowing gets, after it reconnects, exactly what a
// subscriber that never left got; one whose ID the history no longer reaches is told so and
// given a snapshot; snapshot=1 plus the stream equals /peers.json.
#include "httpclient.h"
#include "serverprocess.h"
#include "sseclient.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>
#include <memory>

namespace {

QList<QByteArray> messagesOf(const QList<SseParser::Event> &events, qsizetype from = 0)
{
    QList<QByteArray> data;
    for (qsizetype i = from; i < events.size(); ++i) {
        if (events[i].type == "message")
            data.append(events[i].data);
    }
    return data;
}

// Publishes `count` updates, one every `intervalMs`, from a thread of its own, so that events
// keep flowing while the test cuts and reopens streams.
class Publisher
{
public:
    Publisher(quint16 port, int count, int peers, int intervalMs)
    {
        m_thread.reset(QThread::create([=] {
            HttpClient http(port);
            for (int i = 0; i < count; ++i) {
                const char *type = i % 11 == 10 ? "offline" : i % 3 == 0 ? "online" : "update";
                const QByteArray body = QByteArray("{\"type\":\"") + type + "\",\"peerId\":\"p" +
                                        QByteArray::number(i % peers) + "\",\"content\":\"n" +
                                        QByteArray::number(i) + "\"}";
                if (http.post("/publish", body).status != 204)
                    m_failures.fetch_add(1);
                m_sent.fetch_add(1);
                if (intervalMs > 0)
                    QThread::msleep(intervalMs);
            }
        }));
        m_thread->start();
    }
    ~Publisher() { m_thread->wait(); }
    bool wait(int ms) { return m_thread->wait(QDeadlineTimer(ms)); }
    int sent() const { return m_sent.load(); }
    int failures() const { return m_failures.load(); }

private:
    std::unique_ptr<QThread> m_thread;
    std::atomic<int> m_sent{0};
    std::atomic<int> m_failures{0};
};

// The peers a snapshot and the events after it leave, as peer ID -> content.
QMap<QString, QString> peersAfter(const QList<SseParser::Event> &events)
{
    QMap<QString, QString> peers;
    for (const SseParser::Event &event : events) {
        if (event.type != "message")
            continue;
        const QJsonObject message = QJsonDocument::fromJson(event.data).object();
        if (message["type"].toString() == QLatin1String("offline"))
            peers.remove(message["peerId"].toString());
        else
            peers.insert(message["peerId"].toString(), message["content"].toString());
    }
    return peers;
}

QMap<QString, QString> peersJson(quint16 port)
{
    HttpClient http(port);
    QMap<QString, QString> peers;
    for (const QJsonValue row : QJsonDocument::fromJson(http.get("/peers.json").body).array())
        peers.insert(row["peer_id"].toString(), row["content"].toString());
    return peers;
}

qsizetype indexOfType(const QList<SseParser::Event> &events, QByteArrayView type)
{
    for (qsizetype i = 0; i < events.size(); ++i) {
        if (events[i].type == type)
            return i;
    }
    return -1;
}

} // namespace

class TestResume : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyEventCarriesAnIncreasingId()
    {
        ServerProcess server;
        QVERIFY(server.start());
        SseClient stream(server.port());
        QVERIFY(stream.open());
        QVERIFY(stream.responseHead().contains("X-Goop-Resume: 1\r\n"));
        HttpClient http(server.port());
        for (int i = 0; i < 5; ++i)
            http.post("/publish", "{\"type\":\"update\",\"peerId\":\"a\"}");
        QCOMPARE(stream.waitForEvents(5), 5);
        // `: ok` has none; each event frame is "id: …" then its one data: line.
        QVERIFY(stream.body().startsWith(": ok\n\nid: "));
        QCOMPARE(stream.body().count("id: "), 5);
        QCOMPARE(stream.body().count("\ndata: "), 5);
        QByteArray previous;
        for (const SseParser::Event &event : stream.events()) {
            QVERIFY(!event.id.isEmpty());
            QVERIFY(event.id != previous);
            const QList<QByteArray> parts = event.id.split('-');
            QCOMPARE(parts.size(), 2);
            if (!previous.isEmpty())
                QCOMPARE(parts[1].toLongLong(), previous.split('-')[1].toLongLong() + 1);
            previous = event.id;
        }
    }

    void resumeAfterACutGetsExactlyWhatWasMissed_data()
    {
        QTest::addColumn<bool>("asQuery");
        QTest::newRow("Last-Event-ID header") << false;
        QTest::newRow("lastEventId query") << true;
    }

    void resumeAfterACutGetsExactlyWhatWasMissed()
    {
        QFETCH(bool, asQuery);
        ServerProcess server(ServerProcess::floodArguments());
        QVERIFY(server.start());
        SseClient steady(server.port());
        QVERIFY(steady.open());
        auto cut = std::make_unique<SseClient>(server.port());
        QVERIFY(cut->open());

        const int total = 600;
        Publisher publisher(server.port(), total, 40, 2);
        QVERIFY(cut->waitForEvents(150, 20000) >= 150);
        const QList<SseParser::Event> before = cut->events();
        const QByteArray lastId = before.last().id;
        cut.reset(); // gone while events keep flowing
        QTest::qWait(200);
        const int sentWhileAway = publisher.sent();

        const QByteArray encoded = QUrl::toPercentEncoding(QString::fromLatin1(lastId));
        SseClient resumed(server.port(), asQuery ? "/events?lastEventId=" + encoded : "/events",
                          asQuery ? QByteArray() : "Last-Event-ID: " + lastId + "\r\n");
        QVERIFY(resumed.open());
        QVERIFY(publisher.wait(60000));
        QCOMPARE(publisher.failures(), 0);
        QCOMPARE(steady.waitForEvents(total, 20000), total);

        // First the marker, with how many it replays, then every event after `lastId`.
        const qsizetype marker = indexOfType(resumed.events(), "resumed");
        QVERIFY(resumed.waitForEvents(int(total - before.size() + 1), 20000) >=
                total - before.size() + 1);
        QCOMPARE(marker, 0);
        const int replayed =
            QJsonDocument::fromJson(resumed.events()[0].data).object()["replayed"].toInt();
        QVERIFY2(replayed >= sentWhileAway - before.size() - 5 && replayed > 0,
                 qPrintable(QString::number(replayed)));
        const QList<QByteArray> together = messagesOf(before) + messagesOf(resumed.events(), 1);
        QCOMPARE(together.size(), total);
        QCOMPARE(together, messagesOf(steady.events()));
        // The same IDs as the subscriber that stayed.
        QCOMPARE(resumed.events()[1].id, steady.events()[before.size()].id);
        QCOMPARE(resumed.events().last().id, steady.events().last().id);

        HttpClient http(server.port());
        const QByteArray metrics = http.get("/metrics").body;
        QVERIFY(metrics.contains("goop_sse_resumes_total{outcome=\"resumed\"} 1\n"));
        QVERIFY(metrics.contains("goop_sse_events_replayed_total " + QByteArray::number(replayed) +
                                 "\n"));
    }

    void aReplayLargerThanTheBacklogCapIsNotDropped()
    {
        // Replayed events are shared with the history, not copied into the stream's backlog:
        // 3,000 missed events (~300 KB) resume under a 64 KiB cap. Most of them are in blocks the
        // history has compressed: two streams resuming together get them inflated, in full.
        QStringList arguments = ServerProcess::floodArguments();
        arguments << "--max-subscriber-backlog"
                  << "65536";
        ServerProcess server(arguments);
        QVERIFY(server.start());
        SseClient first(server.port());
        QVERIFY(first.open());
        HttpClient http(server.port());
        http.post("/publish", "{\"type\":\"online\",\"peerId\":\"start\"}");
        QCOMPARE(first.waitForEvents(1), 1);
        const QByteArray startId = first.events().first().id;
        const QByteArray padding(60, 'x');
        for (int i = 0; i < 3000; ++i)
            QCOMPARE(http.post("/publish", "{\"type\":\"update\",\"peerId\":\"p" +
                                               QByteArray::number(i % 50) + "\",\"content\":\"" +
                                               padding + "\"}")
                         .status,
                     204);
        // Packed: the ~300 KB of frames take a fraction of that.
        QTRY_VERIFY_WITH_TIMEOUT(server.metric("goop_event_history_bytes") < 150000, 10000);
        QCOMPARE(first.waitForEvents(3001, 20000), 3001);
        const QList<SseParser::Event> live = first.events().mid(1);
        SseClient resumed(server.port(), "/events", "Last-Event-ID: " + startId + "\r\n");
        SseClient alongside(server.port(), "/events", "Last-Event-ID: " + startId + "\r\n");
        QVERIFY(resumed.open());
        QVERIFY(alongside.open());
        for (SseClient *stream : {&resumed, &alongside}) {
            QCOMPARE(stream->waitForEvents(3001, 20000), 3001);
            const QList<SseParser::Event> replayed = stream->events().mid(1);
            for (int i = 0; i < 3000; ++i) {
                QVERIFY(replayed[i].data.startsWith("{\"type\":\"update\",\"peerId\":\"p" +
                                                    QByteArray::number(i % 50) + "\""));
                QCOMPARE(replayed[i].id, live[i].id);
                QCOMPARE(replayed[i].data, live[i].data);
            }
        }
    }

    void anIdTheHistoryNoLongerReachesGetsAResetAndASnapshot()
    {
        QStringList arguments = ServerProcess::floodArguments();
        arguments << "--history-events"
                  << "20";
        ServerProcess server(arguments);
        QVERIFY(server.start());
        SseClient first(server.port());
        QVERIFY(first.open());
        HttpClient http(server.port());
        for (int i = 0; i < 100; ++i)
            http.post("/publish", "{\"type\":\"update\",\"peerId\":\"p" +
                                      QByteArray::number(i % 7) + "\",\"content\":\"c" +
                                      QByteArray::number(i) + "\"}");
        QCOMPARE(first.waitForEvents(100), 100);
        const QByteArray oldId = first.events()[10].id;

        SseClient again(server.port(), "/events", "Last-Event-ID: " + oldId + "\r\n");
        QVERIFY(again.open());
        QVERIFY(again.waitForEvents(1 + 1 + 7 + 1) >= 10);
        const auto &events = again.events();
        QCOMPARE(events[0].type, QByteArray("reset"));
        QVERIFY2(events[0].data.contains("older than the history"), events[0].data.constData());
        QCOMPARE(events[1].type, QByteArray("snapshot"));
        QCOMPARE(events[1].data, QByteArray("{\"peers\":7}"));
        QCOMPARE(events[9].type, QByteArray("live"));
        QCOMPARE(events[9].id, first.events().last().id); // resumable from there
        QCOMPARE(peersAfter(events), peersJson(server.port()));

        // Garbage, and an ID of another run, are told the same way.
        SseClient garbage(server.port(), "/events", "Last-Event-ID: no-such-id\r\n");
        QVERIFY(garbage.open());
        QVERIFY(garbage.waitForEvents(2) >= 2);
        QCOMPARE(garbage.events()[0].type, QByteArray("reset"));
        ServerProcess later;
        QVERIFY(later.start());
        SseClient otherRun(later.port(), "/events", "Last-Event-ID: " + oldId + "\r\n");
        QVERIFY(otherRun.open());
        QVERIFY(otherRun.waitForEvents(3) >= 3);
        QCOMPARE(otherRun.events()[0].type, QByteArray("reset"));
        QVERIFY2(otherRun.events()[0].data.contains("earlier run"),
                 otherRun.events()[0].data.constData());
        QCOMPARE(otherRun.events()[1].data, QByteArray("{\"peers\":0}"));
    }

    void eventsOlderThanTheHistoryAgeAreGone()
    {
        QStringList arguments = ServerProcess::floodArguments();
        arguments << "--history-age"
                  << "500ms";
        ServerProcess server(arguments);
        QVERIFY(server.start());
        SseClient first(server.port());
        QVERIFY(first.open());
        HttpClient http(server.port());
        http.post("/publish", "{\"type\":\"online\",\"peerId\":\"a\"}");
        http.post("/publish", "{\"type\":\"update\",\"peerId\":\"a\"}");
        QCOMPARE(first.waitForEvents(2), 2);
        SseClient soon(server.port(), "/events", "Last-Event-ID: " + first.events()[0].id + "\r\n");
        QVERIFY(soon.open());
        QVERIFY(soon.waitForEvents(2) >= 2);
        QCOMPARE(soon.events()[0].data, QByteArray("{\"replayed\":1}"));
        QTest::qWait(800);
        SseClient late(server.port(), "/events", "Last-Event-ID: " + first.events()[0].id + "\r\n");
        QVERIFY(late.open());
        QVERIFY(late.waitForEvents(1) >= 1);
        QCOMPARE(late.events()[0].type, QByteArray("reset"));
        // The newest ID is still good: nothing was missed after it.
        SseClient current(server.port(), "/events",
                          "Last-Event-ID: " + first.events()[1].id + "\r\n");
        QVERIFY(current.open());
        QVERIFY(current.waitForEvents(1) >= 1);
        QCOMPARE(current.events()[0].data, QByteArray("{\"replayed\":0}"));
        QVERIFY(http.get("/metrics").body.contains("goop_event_history_events 0\n"));
    }

    // With --private the peer list is for operators: so is a snapshot on /events. A resume
    // replays what the stream sends anyway; when it fails, a client without the password is
    // told and goes on live, without the list.
    void withPrivateASnapshotIsForOperators()
    {
        QTemporaryDir dir;
        QFile file(dir.filePath(QStringLiteral("password")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("open-sesame\n");
        file.close();
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        ServerProcess server({"--admin-password-file", file.fileName(), "--private"});
        QVERIFY(server.start());
        HttpClient http(server.port());
        QCOMPARE(http.post("/publish", "{\"type\":\"online\",\"peerId\":\"hidden\"}").status, 204);

        HttpClient anonymous(server.port());
        QCOMPARE(anonymous.get("/events?snapshot=1").status, 401);
        const QByteArray credentials =
            "Authorization: Basic " + QByteArray("admin:open-sesame").toBase64() + "\r\n";
        SseClient operatorStream(server.port(), "/events?snapshot=1", credentials);
        QVERIFY(operatorStream.open());
        QVERIFY(operatorStream.waitForEvents(3) >= 3);
        QCOMPARE(operatorStream.events()[0].data, QByteArray("{\"peers\":1}"));

        SseClient lost(server.port(), "/events", "Last-Event-ID: 1-1\r\n");
        QVERIFY(lost.open());
        QCOMPARE(lost.waitForEvents(1), 1);
        QCOMPARE(lost.events()[0].type, QByteArray("reset"));
        QVERIFY(lost.events()[0].data.contains("for operators"));
        http.post("/publish", "{\"type\":\"update\",\"peerId\":\"hidden\"}");
        QCOMPARE(lost.waitForEvents(2), 2); // live, without the list
        QCOMPARE(lost.events()[1].type, QByteArray("message"));
        QVERIFY(!lost.body().contains("event: snapshot"));
    }

    void aSnapshotUnderSteadyPublishesPlusTheStreamEqualsPeersJson()
    {
        ServerProcess server(ServerProcess::floodArguments());
        QVERIFY(server.start());
        Publisher publisher(server.port(), 800, 60, 1);
        QTRY_VERIFY_WITH_TIMEOUT(publisher.sent() > 200, 20000);
        SseClient stream(server.port(), "/events?snapshot=1");
        QVERIFY(stream.open());
        QVERIFY(publisher.wait(60000));
        QCOMPARE(publisher.failures(), 0);
        HttpClient http(server.port());
        http.post("/publish", "{\"type\":\"online\",\"peerId\":\"the-end\"}");
        QTRY_VERIFY_WITH_TIMEOUT(
            (stream.readFor(10),
             !stream.events().isEmpty() && stream.events().last().data.contains("the-end")),
            20000);
        const auto &events = stream.events();
        QCOMPARE(events[0].type, QByteArray("snapshot"));
        const int snapshotPeers = QJsonDocument::fromJson(events[0].data).object()["peers"].toInt();
        QVERIFY(snapshotPeers > 0);
        const qsizetype live = indexOfType(events, "live");
        QCOMPARE(live, snapshotPeers + 1);
        // Snapshot events are ordinary online/update messages without IDs; news has IDs.
        for (qsizetype i = 1; i < live; ++i)
            QVERIFY(events[i].type == "message" && events[i].id.isEmpty());
        QVERIFY(!events[live].id.isEmpty());
        QVERIFY(events.size() > live + 1);
        QCOMPARE(peersAfter(events), peersJson(server.port()));
    }
};

QTEST_GUILESS_MAIN(TestResume)
#include "tst_resume.moc"
