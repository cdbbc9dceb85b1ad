// Expiry and heartbeat with short periods: a silent peer is removed with an `offline`
// broadcast; a peer that keeps publishing stays; streams get `: ping`.
#include "httpclient.h"
#include "serverprocess.h"
#include "sseclient.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

class TestExpiry : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void silentPeerExpiresWithOneOfflineEvent()
    {
        ServerProcess server({"--peer-ttl", "600ms"});
        QVERIFY(server.start());
        SseClient stream(server.port());
        QVERIFY(stream.open());
        HttpClient http(server.port());
        http.post("/publish", "{\"type\":\"online\",\"peerId\":\"quiet\",\"content\":\"q\"}");
        QCOMPARE(stream.waitForEvents(2, 5000), 2);
        // Measured on the server's clock (the online's ts is filled in when the publish is
        // accepted, the offline's when the peer expires), not from when the client's POST
        // returned, which a loaded or sanitized run delays.
        const QJsonObject online = QJsonDocument::fromJson(stream.events()[0].data).object();
        const QJsonObject offline = QJsonDocument::fromJson(stream.events()[1].data).object();
        const qint64 elapsed = offline["ts"].toInteger() - online["ts"].toInteger();
        QVERIFY2(elapsed >= 595 && elapsed < 3000, qPrintable(QString::number(elapsed)));

        QCOMPARE(offline.keys(), (QStringList{"peerId", "ts", "type"}));
        QCOMPARE(offline["type"].toString(), QStringLiteral("offline"));
        QCOMPARE(offline["peerId"].toString(), QStringLiteral("quiet"));
        QVERIFY(qAbs(offline["ts"].toInteger() - QDateTime::currentMSecsSinceEpoch()) < 5000);
        QVERIFY(stream.events()[1].data.startsWith(
            "{\"type\":\"offline\",\"peerId\":\"quiet\",\"ts\":"));
        QCOMPARE(http.get("/peers.json").body, QByteArray("[]\n"));

        stream.readFor(800); // exactly one offline: no repeats
        QCOMPARE(stream.events().size(), 2);
        QVERIFY(server.log().contains("expired"));
    }

    void publishingKeepsAPeerAlive()
    {
        ServerProcess server({"--peer-ttl", "800ms"});
        QVERIFY(server.start());
        SseClient stream(server.port());
        QVERIFY(stream.open());
        HttpClient http(server.port());
        http.post("/publish", "{\"type\":\"online\",\"peerId\":\"chatty\"}");
        http.post("/publish", "{\"type\":\"online\",\"peerId\":\"quiet\"}");
        for (int i = 0; i < 8; ++i) {
            QTest::qWait(200);
            http.post("/publish", "{\"type\":\"update\",\"peerId\":\"chatty\"}");
        }
        const QByteArray peers = http.get("/peers.json").body;
        QVERIFY(peers.contains("\"chatty\""));
        QVERIFY(!peers.contains("\"quiet\""));
        QCOMPARE(stream.waitForEvents(11), 11);
        int offlines = 0;
        for (const auto &event : stream.events())
            offlines += event.data.startsWith("{\"type\":\"offline\"") ? 1 : 0;
        QCOMPARE(offlines, 1);
    }

    void heartbeatPings()
    {
        ServerProcess server({"--heartbeat", "200ms"});
        QVERIFY(server.start());
        SseClient stream(server.port());
        QVERIFY(stream.open());
        stream.readFor(1100);
        // ": ok" plus a ping about every 200 ms: at least 3 in 1.1 s even on a busy machine.
        QVERIFY2(stream.parser().commentCount() >= 4,
                 qPrintable(QString::number(stream.parser().commentCount())));
        QCOMPARE(stream.parser().lastComment(), QByteArray("ping"));
        QVERIFY(stream.body().startsWith(": ok\n\n: ping\n\n"));
        QVERIFY(stream.events().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestExpiry)
#include "tst_expiry.moc"
