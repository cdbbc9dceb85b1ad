// Punch hints (PROTOCOL.md, "Punch hints") from the real server: who gets one and when (a new
// peer with addrs, addrs that change as a set), the cooldown per pair, delivery to the target's
// WebSocket or else to everyone, and that no hint is ever stored.
#include "httpclient.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "websocketclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

namespace {

QByteArray withAddrs(const QByteArray &type, const QByteArray &peerId, const QByteArray &addrs)
{
    return "{\"type\":\"" + type + "\",\"peerId\":\"" + peerId + "\",\"addrs\":" + addrs + "}";
}

QJsonObject objectOf(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

// The hints among `lines`, as "peerId>target".
QStringList hintsIn(const QByteArrayList &lines)
{
    QStringList hints;
    for (const QByteArray &line : lines) {
        const QJsonObject event = objectOf(line);
        if (event["type"] == QLatin1String("punch"))
            hints << event["peerId"].toString() + '>' + event["target"].toString();
    }
    hints.sort();
    return hints;
}

QByteArrayList dataOf(const SseClient &stream)
{
    QByteArrayList lines;
    for (const auto &event : stream.events())
        lines.append(event.data);
    return lines;
}

} // namespace

class TestPunchHints : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hintsWhoAndWhen()
    {
        ServerProcess server({"--punch-cooldown", "1s"});
        QVERIFY(server.start());
        SseClient stream(server.port());
        QVERIFY(stream.open());
        HttpClient http(server.port());

        QCOMPARE(http.post("/publish", withAddrs("online", "A", "[\"/ip4/1.1.1.1/tcp/1\"]")).status,
                 204);
        QCOMPARE(http.post("/publish", "{\"type\":\"online\",\"peerId\":\"N\"}").status, 204);
        QCOMPARE(http.post("/publish", withAddrs("online", "B",
                                                 "[\"/ip4/2.2.2.2/tcp/2\",\"/ip4/2.2.2.2/udp/2\"]"))
                     .status,
                 204);
        // A and N arrive first (no other peer with addrs: no hint); B makes the pair A-B, and
        // neither has a WebSocket, so both hints go to everyone.
        QCOMPARE(stream.waitForEvents(5), 5);
        QCOMPARE(hintsIn(dataOf(stream)), (QStringList{"A>B", "B>A"}));
        const QByteArrayList lines = dataOf(stream);
        const QByteArray hintForA =
            *std::find_if(lines.begin(), lines.end(),
                          [](const QByteArray &l) { return l.contains("\"target\":\"A\""); });
        const QJsonObject hint = objectOf(hintForA);
        QVERIFY(
            hintForA.startsWith("{\"type\":\"punch\",\"peerId\":\"B\",\"target\":\"A\",\"addrs\":"
                                "[\"/ip4/2.2.2.2/tcp/2\",\"/ip4/2.2.2.2/udp/2\"],\"ts\":"));
        QVERIFY(hint["ts"].toInteger() > 1700000000000);

        // The same addrs in another order: no change, no hint. New addrs within the cooldown:
        // none either.
        QCOMPARE(http.post("/publish", withAddrs("update", "B",
                                                 "[\"/ip4/2.2.2.2/udp/2\",\"/ip4/2.2.2.2/tcp/2\"]"))
                     .status,
                 204);
        QCOMPARE(http.post("/publish", withAddrs("update", "A", "[\"/ip4/1.1.1.9/tcp/1\"]")).status,
                 204);
        stream.readFor(300);
        QCOMPARE(stream.events().size(), 7);
        QCOMPARE(hintsIn(dataOf(stream)).size(), 2);

        // After the cooldown, changed addrs make the pair's hints again.
        QTest::qWait(1100);
        QCOMPARE(http.post("/publish", withAddrs("update", "A", "[\"/ip4/1.1.1.7/tcp/1\"]")).status,
                 204);
        QCOMPARE(stream.waitForEvents(10), 10);
        QCOMPARE(hintsIn(dataOf(stream)), (QStringList{"A>B", "A>B", "B>A", "B>A"}));
        QVERIFY(dataOf(stream).last().contains("\"addrs\":[\"/ip4/1.1.1.7/tcp/1\"]") ||
                dataOf(stream)[8].contains("\"addrs\":[\"/ip4/1.1.1.7/tcp/1\"]"));

        // Never stored.
        const QJsonArray rows = QJsonDocument::fromJson(http.get("/peers.json").body).array();
        QCOMPARE(rows.size(), 3);
        for (const QJsonValue &row : rows)
            QVERIFY(row["type"] != QLatin1String("punch"));
    }

    void toTheTargetsWebSocketOnly()
    {
        ServerProcess server({"--ws-timeout", "60s"});
        QVERIFY(server.start());
        HttpClient http(server.port());
        QCOMPARE(http.post("/publish", withAddrs("online", "A", "[\"/ip4/1.1.1.1/tcp/1\"]")).status,
                 204);
        QCOMPARE(http.post("/publish", "{\"type\":\"online\",\"peerId\":\"W\"}").status, 204);
        SseClient stream(server.port());
        QVERIFY(stream.open());
        WebSocketClient w(server.port());
        QVERIFY(w.open("W"));
        w.send(withAddrs("update", "W", "[\"/ip4/3.3.3.3/tcp/3\"]"));
        // W's update, then A's hint about W for everyone; W's hint about A on W's socket only.
        QCOMPARE(w.waitForMessages(3), 3);
        QCOMPARE(hintsIn(w.messages()), (QStringList{"A>W", "W>A"}));
        QCOMPARE(stream.waitForEvents(2), 2);
        stream.readFor(300);
        QCOMPARE(hintsIn(dataOf(stream)), QStringList{"W>A"});
        QVERIFY(http.get("/metrics").body.contains("goop_punch_hints_total 2\n"));
    }

    // The dashboard and the monitor open /events?punch=0: N peers arriving without WebSockets
    // make N² hints for everyone, which would flood an observer that has no use for them.
    void notToObserversThatOptOut()
    {
        ServerProcess server;
        QVERIFY(server.start());
        HttpClient http(server.port());
        SseClient everything(server.port());
        SseClient observer(server.port(), "/events?punch=0");
        SseClient fromSnapshot(server.port(), "/events?snapshot=1&punch=0");
        QVERIFY(everything.open());
        QVERIFY(observer.open());
        QVERIFY(fromSnapshot.open());
        const QByteArrayList peers{"A", "B", "C", "D"};
        for (const QByteArray &peer : peers)
            QCOMPARE(http.post("/publish",
                               withAddrs("online", peer, "[\"/ip4/10.0.0.1/tcp/" + peer + "\"]"))
                         .status,
                     204);
        // 4 onlines and 2 hints for each of the 6 pairs; then the offline, once they are out (the
        // hints are worked out after the publish, for the peers there are by then).
        QCOMPARE(everything.waitForEvents(16), 16);
        QCOMPARE(http.post("/publish", "{\"type\":\"offline\",\"peerId\":\"A\"}").status, 204);
        QCOMPARE(everything.waitForEvents(17), 17);
        QCOMPARE(hintsIn(dataOf(everything)).size(), 12);
        QCOMPARE(observer.waitForEvents(5), 5);
        observer.readFor(300);
        QCOMPARE(observer.events().size(), 5);
        QVERIFY(hintsIn(dataOf(observer)).isEmpty());
        QVERIFY(dataOf(observer).last().startsWith("{\"type\":\"offline\",\"peerId\":\"A\""));
        // In the order the events had on the stream with hints.
        QByteArrayList eventsOnly = dataOf(everything);
        eventsOnly.removeIf([](const QByteArray &line) { return line.contains("\"punch\""); });
        QCOMPARE(dataOf(observer), eventsOnly);
        // The snapshot (empty here) and the `live` mark, then the same events.
        QCOMPARE(fromSnapshot.waitForEvents(7), 7);
        fromSnapshot.readFor(100);
        QCOMPARE(fromSnapshot.events().size(), 7);
        QCOMPARE(dataOf(fromSnapshot).mid(2), eventsOnly);
    }

    // With only observers listening, a hint would reach nobody: none is made (N arrivals would
    // make N² of them). Once a stream that takes hints is there, they are made again.
    void noneWhileOnlyObserversListen()
    {
        ServerProcess server;
        QVERIFY(server.start());
        HttpClient http(server.port());
        SseClient observer(server.port(), "/events?punch=0");
        QVERIFY(observer.open());
        for (const QByteArray &peer : {QByteArray("A"), QByteArray("B")})
            QCOMPARE(http.post("/publish",
                               withAddrs("online", peer, "[\"/ip4/10.0.0.1/tcp/" + peer + "\"]"))
                         .status,
                     204);
        QCOMPARE(observer.waitForEvents(2), 2);
        observer.readFor(300);
        QVERIFY(http.get("/metrics").body.contains("goop_punch_hints_total 0\n"));

        SseClient everything(server.port());
        QVERIFY(everything.open());
        QCOMPARE(
            http.post("/publish", withAddrs("online", "C", "[\"/ip4/10.0.0.1/tcp/C\"]")).status,
            204);
        QCOMPARE(everything.waitForEvents(5), 5); // C's online, and C-A, C-B both ways
        QCOMPARE(hintsIn(dataOf(everything)), (QStringList{"A>C", "B>C", "C>A", "C>B"}));
        QVERIFY(http.get("/metrics").body.contains("goop_punch_hints_total 4\n"));
    }
};

QTEST_GUILESS_MAIN(TestPunchHints)
#include "tst_punchhints.moc"
