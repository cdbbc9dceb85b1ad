// The fields the server owns (PROTOCOL.md, "Fields the server owns"), through every door of one
// instance: a peer's verification token (a credential) never leaves the server, whatever a peer
// claims `verified` is the server's, and `target` is never taken from a peer. The cluster's
// Redis keys and stream are checked in tst_cluster.
#include "httpclient.h"
#include "serverprocess.h"
#include "sseclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

namespace {

const QByteArray token = "SECRET-TOKEN-123";

} // namespace

class TestServerOwnedFields : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_server.start()); }

    void tokenNeverLeaves()
    {
        SseClient stream(m_server.port());
        QVERIFY(stream.open());
        HttpClient http(m_server.port());
        QCOMPARE(http.post("/publish", "{\"type\":\"online\",\"peerId\":\"12D3KooWTok\",\"email\":"
                                       "\"a@b.c\",\"verificationToken\":\"" +
                                           token + "\",\"verified\":false,\"target\":\"x\"}")
                     .status,
                 204);
        QCOMPARE(http.post("/publish", "{\"type\":\"update\",\"peerId\":\"12D3KooWTok\","
                                       "\"VERIFICATIONTOKEN\":\"" +
                                           token + "\"}")
                     .status,
                 204);
        // Rejected publishes carry it too; their error is logged.
        QCOMPARE(http.post("/publish", "{\"type\":\"online\",\"peerId\":\"12D3KooWTok\","
                                       "\"verificationToken\":\"" +
                                           token + "\",\"email\":\"" + QByteArray(321, 'e') + "\"}")
                     .status,
                 400);
        QCOMPARE(http.post("/publish", "{\"verificationToken\":\"" + token + "\"}").status, 400);
        QCOMPARE(stream.waitForEvents(2), 2);

        const QJsonObject event = QJsonDocument::fromJson(stream.events()[0].data).object();
        QCOMPARE(event["verified"].toBool(), true); // the server's word, not the peer's `false`
        QVERIFY(!event.contains("target"));
        QCOMPARE(event["email"].toString(), QStringLiteral("a@b.c"));
        const QJsonObject row =
            QJsonDocument::fromJson(http.get("/peers.json").body).array()[0].toObject();
        QCOMPARE(row["peer_id"].toString(), QStringLiteral("12D3KooWTok"));
        QCOMPARE(row["verified"].toBool(), true);

        const QList<QByteArray> doors = {stream.body(), http.get("/peers.json").body,
                                         http.get("/logs.json").body, http.get("/metrics").body,
                                         m_server.log()};
        for (const QByteArray &bytes : doors) {
            QVERIFY2(!bytes.isEmpty(), "a door said nothing: the check would prove nothing");
            QVERIFY2(!bytes.contains(token) && !bytes.contains("erificationToken") &&
                         !bytes.contains("VERIFICATIONTOKEN"),
                     bytes.left(2000).constData());
        }
        // The log did see the publishes (debug level): it was looked at, and is clean.
        QVERIFY(m_server.log().contains("12D3KooWTok"));
    }

private:
    ServerProcess m_server{{"--log-level", "debug"}};
};

QTEST_GUILESS_MAIN(TestServerOwnedFields)
#include "tst_serverownedfields.moc"
