// Every row of PROTOCOL.md against the real server, byte for byte where the protocol says
// "compatible".
#include "httpclient.h"
#include "serverprocess.h"
#include "sseclient.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTest>
#include <QThread>

class TestProtocol : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_server.start()); }

    void init()
    {
        // Each test starts with no peers.
        HttpClient http(m_server.port());
        const QJsonArray peers = QJsonDocument::fromJson(http.get("/peers.json").body).array();
        for (const auto &peer : peers)
            http.post("/publish", "{\"type\":\"offline\",\"peerId\":" +
                                      jsonString(peer.toObject()["peer_id"].toString()) + "}");
        QCOMPARE(http.get("/peers.json").body, QByteArray("[]\n"));
    }

    void publishAnswers204WithNoBody()
    {
        HttpClient http(m_server.port());
        const auto r =
            http.post("/publish", "{\"type\":\"online\",\"peerId\":\"p1\",\"content\":\"hello\"}");
        QCOMPARE(r.status, 204);
        QCOMPARE(r.statusLine, QByteArray("HTTP/1.1 204 No Content"));
        QVERIFY(r.body.isEmpty());
        QVERIFY(!r.hasHeader("Content-Length"));
    }

    void publishErrors_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("error");
        QTest::newRow("empty") << QByteArray() << QByteArray("bad json");
        QTest::newRow("not json") << QByteArray("nope") << QByteArray("bad json");
        QTest::newRow("not an object") << QByteArray("[1]") << QByteArray("bad json");
        QTest::newRow("ts as string")
            << QByteArray("{\"type\":\"online\",\"peerId\":\"a\",\"ts\":\"1\"}")
            << QByteArray("bad json");
        QTest::newRow("ts 1.5") << QByteArray("{\"type\":\"online\",\"peerId\":\"a\",\"ts\":1.5}")
                                << QByteArray("bad json");
        QTest::newRow("missing type") << QByteArray("{\"peerId\":\"a\"}")
                                      << QByteArray("bad message: type and peerId are required");
        QTest::newRow("blank peerId") << QByteArray("{\"type\":\"online\",\"peerId\":\"  \"}")
                                      << QByteArray("bad message: type and peerId are required");
        QTest::newRow("unknown type") << QByteArray("{\"type\":\"away\",\"peerId\":\"a\"}")
                                      << QByteArray("bad message: unknown type \"away\"");
        QTest::newRow("peerId too long")
            << ("{\"type\":\"online\",\"peerId\":\"" + QByteArray(257, 'x') + "\"}")
            << QByteArray("bad message: peerId too long");
        QTest::newRow("content too long")
            << ("{\"type\":\"online\",\"peerId\":\"a\",\"content\":\"" + QByteArray(4097, 'x') +
                "\"}")
            << QByteArray("bad message: content too long");
    }
    void publishErrors()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, error);
        SseClient stream(m_server.port());
        QVERIFY(stream.open());
        HttpClient http(m_server.port());
        const auto r = http.post("/publish", body);
        QCOMPARE(r.status, 400);
        QCOMPARE(r.header("Content-Type"), QByteArray("text/plain; charset=utf-8"));
        QCOMPARE(r.body, error + '\n');
        // A rejected publish changes nothing: nothing stored, nothing broadcast.
        QCOMPARE(http.get("/peers.json").body, QByteArray("[]\n"));
        QCOMPARE(http.post("/publish", "{\"type\":\"online\",\"peerId\":\"marker\"}").status, 204);
        QCOMPARE(stream.waitForEvents(1), 1);
        // The first event on the stream is the marker: the rejected publish sent nothing.
        QVERIFY(stream.events().first().data.startsWith(
            "{\"type\":\"online\",\"peerId\":\"marker\",\"ts\":"));
    }

    void eventStreamFraming()
    {
        SseClient stream(m_server.port());
        QVERIFY(stream.open());
        const QByteArray head = stream.responseHead();
        QVERIFY2(head.startsWith("HTTP/1.1 200 OK\r\n"), head.constData());
        for (const char *header :
             {"Content-Type: text/event-stream\r\n", "Cache-Control: no-cache\r\n",
              "Connection: keep-alive\r\n", "X-Accel-Buffering: no\r\n"})
            QVERIFY2(head.contains(header), header);
        QVERIFY(!head.contains("Content-Length"));
        QVERIFY(!head.contains("Transfer-Encoding"));
        QVERIFY(stream.body().startsWith(": ok\n\n"));

        HttpClient http(m_server.port());
        http.post("/publish", "{\"type\":\"online\",\"peerId\":\"p1\",\"content\":\"a <b> & "
                              "c\",\"ts\":1732460000000}");
        http.post("/publish", "{\"type\":\"update\",\"peerId\":\"p1\",\"ts\":1732460005000}");
        http.post("/publish", "{\"type\":\"offline\",\"peerId\":\"p1\",\"ts\":1732460009000}");
        QCOMPARE(stream.waitForEvents(3), 3);
        // Each event frame starts with its `id:` line (clients in the field skip it); without
        // those lines the bytes are the Go server's.
        QByteArray withoutIds;
        for (const QByteArray &line : stream.body().split('\n')) {
            if (!line.startsWith("id: "))
                withoutIds += line + '\n';
        }
        withoutIds.chop(1);
        QCOMPARE(stream.body().count("\nid: "), 3);
        QCOMPARE(
            withoutIds,
            QByteArray(": ok\n\n"
                       "data: {\"type\":\"online\",\"peerId\":\"p1\",\"content\":\"a "
                       "\\u003cb\\u003e \\u0026 c\",\"ts\":1732460000000,\"verified\":true}\n\n"
                       "data: {\"type\":\"update\",\"peerId\":\"p1\",\"ts\":1732460005000,"
                       "\"verified\":true}\n\n"
                       "data: {\"type\":\"offline\",\"peerId\":\"p1\",\"ts\":1732460009000,"
                       "\"verified\":true}\n\n"));
    }

    void everySubscriberGetsEveryEventInOrder()
    {
        QList<SseClient *> streams;
        for (int i = 0; i < 5; ++i) {
            streams.append(new SseClient(m_server.port()));
            QVERIFY(streams.last()->open());
        }
        HttpClient http(m_server.port());
        for (int i = 0; i < 200; ++i)
            QCOMPARE(http.post("/publish", "{\"type\":\"update\",\"peerId\":\"p" +
                                               QByteArray::number(i % 7) +
                                               "\",\"ts\":" + QByteArray::number(i + 1) + "}")
                         .status,
                     204);
        for (SseClient *stream : streams) {
            QCOMPARE(stream->waitForEvents(200), 200);
            for (int i = 0; i < 200; ++i)
                QVERIFY(stream->events()[i].data.endsWith(",\"ts\":" + QByteArray::number(i + 1) +
                                                          ",\"verified\":true}"));
        }
        qDeleteAll(streams);
    }

    // --batch-window: events that come soon after a batch wait for the window's end and go out
    // together, every one of them, in order.
    void eventsWithinTheBatchWindowGoOutTogether()
    {
        ServerProcess server({"--batch-window", "400ms"});
        QVERIFY(server.start());
        SseClient stream(server.port());
        QVERIFY(stream.open());
        HttpClient http(server.port());
        const auto publish = [&](int ts) {
            return http
                .post("/publish", "{\"type\":\"update\",\"peerId\":\"a\",\"ts\":" +
                                      QByteArray::number(ts) + "}")
                .status;
        };
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(publish(1), 204); // after a quiet time: at once
        QCOMPARE(stream.waitForEvents(1), 1);
        const qint64 first = clock.elapsed();
        for (int ts = 2; ts <= 10; ++ts)
            QCOMPARE(publish(ts), 204);
        QCOMPARE(stream.waitForEvents(10), 10);
        const qint64 rest = clock.elapsed();
        // Not before the window ends, 400 ms after the first batch left (a moment before the
        // client had it).
        QVERIFY2(rest - first >= 250, qPrintable(QString::number(rest - first)));
        for (int i = 0; i < 10; ++i)
            QVERIFY(stream.events()[i].data.contains(",\"ts\":" + QByteArray::number(i + 1) + ","));
        QCOMPARE(ServerProcess({"--batch-window", "2s"}).start(), false);
    }

    void zeroTsIsFilledByTheServer()
    {
        SseClient stream(m_server.port());
        QVERIFY(stream.open());
        HttpClient http(m_server.port());
        const qint64 before = QDateTime::currentMSecsSinceEpoch();
        http.post("/publish", "{\"type\":\"online\",\"peerId\":\"p1\",\"ts\":0}");
        http.post("/publish", "{\"type\":\"update\",\"peerId\":\"p1\"}");
        const qint64 after = QDateTime::currentMSecsSinceEpoch();
        QCOMPARE(stream.waitForEvents(2), 2);
        for (const auto &event : stream.events()) {
            const qint64 ts = QJsonDocument::fromJson(event.data).object()["ts"].toInteger();
            QVERIFY(ts >= before && ts <= after);
        }
    }

    void peersJsonRowsAndOrder()
    {
        HttpClient http(m_server.port());
        http.post("/publish", "{\"type\":\"update\",\"peerId\":\"u-old\",\"ts\":1}");
        QTest::qWait(5);
        http.post("/publish", "{\"type\":\"online\",\"peerId\":\"o-old\",\"ts\":2}");
        QTest::qWait(5);
        http.post("/publish",
                  "{\"type\":\"update\",\"peerId\":\"u-new\",\"content\":\"x\",\"ts\":3}");
        QTest::qWait(5);
        http.post(
            "/publish",
            "{\"type\":\"online\",\"peerId\":\"o-new\",\"ts\":4,\"goopClientVersion\":\"2.1\"}");
        const auto r = http.get("/peers.json");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json; charset=utf-8"));
        QVERIFY(r.body.endsWith("]\n"));
        const QJsonArray rows = QJsonDocument::fromJson(r.body).array();
        QStringList order;
        for (const auto &row : rows)
            order << row.toObject()["peer_id"].toString();
        QCOMPARE(order, (QStringList{"o-new", "o-old", "u-new", "u-old"}));
        const QJsonObject first = rows[0].toObject();
        QCOMPARE(first.keys().size(), 7);
        QCOMPARE(first["verified"].toBool(), true);
        QCOMPARE(first["content"].toString(), QString()); // always present
        QVERIFY(first.contains("content"));
        QCOMPARE(first["goopClientVersion"].toString(), QStringLiteral("2.1"));
        QVERIFY(first["last_seen"].toInteger() >= rows[1].toObject()["last_seen"].toInteger());
        QVERIFY(r.body.startsWith("[{\"peer_id\":\"o-new\",\"type\":\"online\",\"content\":\"\","
                                  "\"ts\":4,\"last_seen\":"));
    }

    void offlineRemovesAndBroadcasts()
    {
        SseClient stream(m_server.port());
        QVERIFY(stream.open());
        HttpClient http(m_server.port());
        http.post("/publish", "{\"type\":\"online\",\"peerId\":\"p1\"}");
        QVERIFY(http.get("/peers.json").body.contains("\"p1\""));
        QCOMPARE(http.post("/publish", "{\"type\":\"offline\",\"peerId\":\"p1\"}").status, 204);
        QCOMPARE(http.get("/peers.json").body, QByteArray("[]\n"));
        QCOMPARE(http.post("/publish", "{\"type\":\"offline\",\"peerId\":\"never-seen\",\"ts\":9}")
                     .status,
                 204);
        QCOMPARE(stream.waitForEvents(3), 3);
        QVERIFY(stream.events()[1].data.startsWith("{\"type\":\"offline\",\"peerId\":\"p1\""));
        QCOMPARE(stream.events()[2].data,
                 QByteArray("{\"type\":\"offline\",\"peerId\":\"never-seen\",\"ts\":9,"
                            "\"verified\":true}"));
    }

    void unknownFieldsReachSubscribers()
    {
        SseClient stream(m_server.port());
        QVERIFY(stream.open());
        HttpClient http(m_server.port());
        const QByteArray body =
            "{\"type\":\"online\",\"peerId\":\"p1\",\"ts\":5,\"email\":\"a@b.c\",\"avatarHash\":"
            "\"ab12\","
            "\"addrs\":[\"/ip4/203.0.113.5/tcp/4001\",\"/ip6/::1/tcp/4001\"],"
            "\"publicKey\":\"CAESIB\",\"goopClientVersion\":\"2.3.0\",\"nested\":{\"a\":[1,2]}}";
        QCOMPARE(http.post("/publish", body).status, 204);
        QCOMPARE(stream.waitForEvents(1), 1);
        QCOMPARE(stream.events()[0].data, body.chopped(1) + ",\"verified\":true}");
        const QJsonObject row =
            QJsonDocument::fromJson(http.get("/peers.json").body).array()[0].toObject();
        QCOMPARE(row["addrs"].toArray().size(), 2);
        QCOMPARE(row["nested"].toObject()["a"].toArray()[1].toInt(), 2);
        QCOMPARE(row["email"].toString(), QStringLiteral("a@b.c"));
    }

    void healthz()
    {
        HttpClient http(m_server.port());
        const auto get = http.get("/healthz");
        QCOMPARE(get.status, 200);
        QCOMPARE(get.header("Content-Type"), QByteArray("text/plain; charset=utf-8"));
        QCOMPARE(get.body, QByteArray("ok"));
        const auto head = http.request("HEAD", "/healthz");
        QCOMPARE(head.status, 200);
        QCOMPARE(head.header("Content-Length"), QByteArray("2"));
        QVERIFY(head.body.isEmpty());
        QCOMPARE(http.get("/healthz").body, QByteArray("ok")); // the HEAD left no stray bytes
    }

    void logsJson()
    {
        HttpClient http(m_server.port());
        http.post("/publish",
                  "{\"type\":\"online\",\"peerId\":\"logged-peer\",\"content\":\"x\\ny\"}");
        const auto r = http.get("/logs.json");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json; charset=utf-8"));
        const QJsonArray lines = QJsonDocument::fromJson(r.body).array();
        QVERIFY(!lines.isEmpty());
        QVERIFY(lines.size() <= 500);
        QVERIFY(lines.last().toString().contains(QStringLiteral("logged-peer")));
        for (const auto &line : lines)
            QVERIFY(!line.toString().contains(QLatin1Char('\n'))); // peer text cannot break lines
    }

    // A crowd arriving at once (a restart: every peer publishes within seconds) is logged a
    // hundred peers a second, and the rest counted in one line per second.
    void aCrowdIsLoggedInSummary()
    {
        ServerProcess server({"--address-publish-rate", "1e9", "--address-publish-burst", "1e9"});
        QVERIFY(server.start());
        HttpClient http(server.port());
        const int crowd = 400;
        for (int i = 0; i < crowd; ++i)
            QCOMPARE(http.post("/publish", "{\"type\":\"online\",\"peerId\":\"crowd-" +
                                               QByteArray::number(i) + "\"}")
                         .status,
                     204);
        const QRegularExpression held(
            QStringLiteral("^(\\d+) more peers? came online in the last "
                           "second, not logged one by one \\(\\d+ online\\)"));
        int oneByOne = 0;
        int summarized = 0;
        QDeadlineTimer deadline(5000);
        while (oneByOne + summarized < crowd && !deadline.hasExpired()) {
            QTest::qWait(200);
            oneByOne = summarized = 0;
            for (const QJsonValue &line :
                 QJsonDocument::fromJson(http.get("/logs.json").body).array()) {
                const QString text = line.toString();
                if (text.contains(QLatin1String("peer \"crowd-")))
                    ++oneByOne;
                else if (const auto match = held.match(text.section(QLatin1Char(' '), 1));
                         match.hasMatch())
                    summarized += match.captured(1).toInt();
            }
        }
        QCOMPARE(oneByOne + summarized, crowd);
        QVERIFY2(summarized > 0, qPrintable(QString::number(oneByOne)));
    }

    void dashboardAtRootOnly()
    {
        HttpClient http(m_server.port());
        const auto r = http.get("/");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Content-Type"), QByteArray("text/html; charset=utf-8"));
        QVERIFY(r.body.contains("<html"));
        const QByteArray etag = r.header("ETag");
        QVERIFY(!etag.isEmpty());
        QCOMPARE(http.request("GET", "/", {}, "If-None-Match: " + etag + "\r\n").status, 304);
        QCOMPARE(http.get("/index.html").status, 404);
    }

    void wrongMethodIs405_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");
        QTest::newRow("GET /publish") << QByteArray("GET") << QByteArray("/publish");
        QTest::newRow("PUT /publish") << QByteArray("PUT") << QByteArray("/publish");
        QTest::newRow("POST /events") << QByteArray("POST") << QByteArray("/events");
        QTest::newRow("DELETE /peers.json") << QByteArray("DELETE") << QByteArray("/peers.json");
        QTest::newRow("POST /healthz") << QByteArray("POST") << QByteArray("/healthz");
        QTest::newRow("POST /logs.json") << QByteArray("POST") << QByteArray("/logs.json");
        QTest::newRow("POST /") << QByteArray("POST") << QByteArray("/");
    }
    void wrongMethodIs405()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        HttpClient http(m_server.port());
        const auto r =
            http.request(method, path, method == "GET" ? QByteArray() : QByteArray("{}"));
        QCOMPARE(r.status, 405);
        QCOMPARE(r.body, QByteArray("method not allowed\n"));
        QVERIFY(r.hasHeader("Allow"));
        QCOMPARE(http.get("/peers.json").body, QByteArray("[]\n"));
    }

    void unknownPathIs404_data()
    {
        QTest::addColumn<QByteArray>("path");
        for (const char *path : {"/nope", "/peersXjson", "/peers.json/", "/publish/x", "/events2",
                                 "/HEALTHZ", "/assets/nope.js"})
            QTest::newRow(path) << QByteArray(path);
    }
    void unknownPathIs404()
    {
        QFETCH(QByteArray, path);
        HttpClient http(m_server.port());
        const auto r = http.get(path);
        QCOMPARE(r.status, 404);
        QCOMPARE(r.body, QByteArray("404 page not found\n"));
    }

    // ~4 MB of /peers.json, more than the connection holds while its client does not read for
    // a moment: the head and part of the body leave in one gathered send and Qt queues the
    // rest, so two of them pipelined with a /healthz behind must come back whole and in order.
    void largePeersJsonArrivesWholeAndInOrder()
    {
        HttpClient http(m_server.port());
        const QByteArray label(1000, 'x');
        for (int i = 0; i < 4000; ++i) {
            QCOMPARE(http.post("/publish", "{\"type\":\"online\",\"peerId\":\"big-" +
                                               QByteArray::number(i) + "\",\"content\":\"" + label +
                                               "\"}")
                         .status,
                     204);
        }
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_server.port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write("GET /peers.json HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /peers.json HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        QVERIFY(socket.waitForBytesWritten(5000));
        // Not reading for a moment fills the connection: the server's send stops partway.
        QThread::msleep(300);
        QByteArray received;
        const QByteArray last = "\r\n\r\nok";
        while (!received.endsWith(last) && socket.waitForReadyRead(5000))
            received += socket.readAll();
        QVERIFY(received.endsWith(last));
        QByteArrayList bodies;
        qsizetype at = 0;
        for (int i = 0; i < 2; ++i) {
            const qsizetype headEnd = received.indexOf("\r\n\r\n", at);
            QVERIFY(headEnd > at);
            const QByteArray head = received.mid(at, headEnd - at);
            QVERIFY(head.startsWith("HTTP/1.1 200 OK\r\n"));
            const qsizetype lengthAt = head.indexOf("Content-Length: ") + 16;
            const qsizetype length =
                head.mid(lengthAt, head.indexOf("\r\n", lengthAt) - lengthAt).toLongLong();
            bodies << received.mid(headEnd + 4, length);
            at = headEnd + 4 + length;
        }
        QVERIFY(bodies[0].size() > 4 * 1024 * 1024);
        QCOMPARE(bodies[1], bodies[0]);
        QCOMPARE(QJsonDocument::fromJson(bodies[0]).array().size(), 4000);
        QVERIFY(received.mid(at).startsWith("HTTP/1.1 200 OK\r\n"));
    }

    void queryStringsDoNotChangeTheRoute()
    {
        HttpClient http(m_server.port());
        QCOMPARE(http.get("/healthz?probe=1").body, QByteArray("ok"));
    }

private:
    static QByteArray jsonString(const QString &text)
    {
        return QJsonDocument(QJsonArray{text}).toJson(QJsonDocument::Compact).mid(1).chopped(1);
    }

    ServerProcess m_server{ServerProcess::floodArguments()};
};

QTEST_GUILESS_MAIN(TestProtocol)
#include "tst_protocol.moc"
