// GET /ws against the real server (PROTOCOL.md, "GET /ws"): every row of the admission table,
// events out and presence in, pings and the silence rule, replacement and the disconnect grace,
// the slow-subscriber rule, and a mixed crowd of SSE and WebSocket subscribers with POST and
// WebSocket publishers in which everyone gets every event in the same order.
#include "httpclient.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "websocketclient.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>

namespace {

const QByteArray upgradeHeaders = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

QByteArray online(const QByteArray &peerId)
{
    return "{\"type\":\"online\",\"peerId\":\"" + peerId + "\"}";
}

QByteArray update(const QByteArray &peerId, int ts)
{
    return "{\"type\":\"update\",\"peerId\":\"" + peerId + "\",\"ts\":" + QByteArray::number(ts) +
           "}";
}

QByteArray typeOf(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object()["type"].toString().toUtf8();
}

QByteArrayList dataOf(const SseClient &stream)
{
    QByteArrayList lines;
    for (const auto &event : stream.events())
        lines.append(event.data);
    return lines;
}

// A connection upgraded by hand, to see the server's frames as bytes (pings included, which
// QWebSocket answers silently) and to stay silent when it should answer.
class RawWebSocket
{
public:
    explicit RawWebSocket(quint16 port) { m_socket.connectToHost(QHostAddress::LocalHost, port); }

    bool upgrade(const QByteArray &peerId)
    {
        if (!m_socket.waitForConnected(5000))
            return false;
        m_socket.write("GET /ws?peer_id=" + peerId + " HTTP/1.1\r\nHost: x\r\n" + upgradeHeaders +
                       "\r\n");
        while (!m_bytes.contains("\r\n\r\n") && m_socket.waitForReadyRead(5000))
            m_bytes += m_socket.readAll();
        const qsizetype end = m_bytes.indexOf("\r\n\r\n");
        if (end < 0 || !m_bytes.startsWith("HTTP/1.1 101 "))
            return false;
        m_bytes.remove(0, end + 4);
        return true;
    }

    // Reads for up to `ms`; returns the first byte (opcode) of each whole frame that came.
    QList<quint8> readFrames(int ms)
    {
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < ms && m_socket.state() == QAbstractSocket::ConnectedState) {
            if (m_socket.waitForReadyRead(int(qMax<qint64>(1, ms - clock.elapsed()))))
                m_bytes += m_socket.readAll();
        }
        m_bytes += m_socket.readAll();
        QList<quint8> opcodes;
        while (m_bytes.size() >= 2) {
            const qsizetype length = quint8(m_bytes[1]) & 0x7F; // the server's are short here
            if (m_bytes.size() < 2 + length)
                break;
            opcodes.append(quint8(m_bytes[0]));
            m_bytes.remove(0, 2 + length);
        }
        return opcodes;
    }

    void sendPong() { m_socket.write(QByteArray("\x8A\x80\x01\x02\x03\x04", 6)); }
    bool isOpen() const { return m_socket.state() == QAbstractSocket::ConnectedState; }

private:
    QTcpSocket m_socket;
    QByteArray m_bytes;
};

} // namespace

class TestWebSocket : public QObject
{
    Q_OBJECT

private:
    // A server with short WebSocket timings, which takes the tests' floods of publishes;
    // `extra` adds or overrides flags.
    static std::unique_ptr<ServerProcess> start(const QStringList &extra = {})
    {
        auto server = std::make_unique<ServerProcess>(
            QStringList{"--ws-ping", "200ms", "--ws-timeout", "1s", "--ws-grace", "500ms"} +
            ServerProcess::floodArguments() + extra);
        if (!server->start())
            return nullptr;
        return server;
    }

private Q_SLOTS:
    void admissionTable()
    {
        auto server = start({"--max-ws-per-address", "2"});
        QVERIFY(server);
        HttpClient http(server->port());

        const auto probe =
            HttpClient(server->port())
                .raw("GET /ws?probe=1 HTTP/1.1\r\nHost: x\r\n" + upgradeHeaders + "\r\n");
        QCOMPARE(probe.statusLine, QByteArray("HTTP/1.1 101 Switching Protocols"));
        QCOMPARE(probe.header("Sec-WebSocket-Accept"), QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));

        auto answer = http.request("GET", "/ws", {}, upgradeHeaders);
        QCOMPARE(answer.status, 400);
        QCOMPARE(answer.body, QByteArray("peer_id required\n"));
        answer = http.request("GET", "/ws?peer_id=12D3KooWNew", {}, upgradeHeaders);
        QCOMPARE(answer.status, 425);
        QCOMPARE(answer.body, QByteArray("unknown peer \xE2\x80\x94 publish first\n"));

        for (const QByteArray peer : {"a", "b", "c"})
            QCOMPARE(http.post("/publish", online(peer)).status, 204);
        answer = http.request("GET", "/ws?peer_id=a", {}, "Connection: Upgrade\r\n");
        QCOMPARE(answer.status, 400);
        QCOMPARE(answer.header("Sec-WebSocket-Version"), QByteArray("13"));
        answer = http.request("POST", "/ws?peer_id=a", {}, upgradeHeaders);
        QCOMPARE(answer.status, 405);
        answer = http.request("GET", "/ws?peer_id=a", {},
                              QByteArray(upgradeHeaders).replace("Version: 13", "Version: 12"));
        QCOMPARE(answer.status, 400);

        WebSocketClient a(server->port()), b(server->port()), c(server->port());
        QVERIFY(a.open("a"));
        QVERIFY(b.open("b"));
        answer = http.request("GET", "/ws?peer_id=c", {}, upgradeHeaders);
        QCOMPARE(answer.status, 429);
        QCOMPARE(answer.body, QByteArray("too many WebSocket connections from this IP\n"));
        // a's own redial replaces it and takes no new place
        WebSocketClient again(server->port());
        QVERIFY(again.open("a"));
        QVERIFY(a.waitForClose(5000));
        QVERIFY(!c.open("c", 1000));
    }

    void probeUpgradesAndCloses()
    {
        auto server = start();
        QVERIFY(server);
        QWebSocket probe;
        probe.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws?probe=1").arg(server->port())));
        QVERIFY(QTest::qWaitFor([&] { return probe.state() == QAbstractSocket::UnconnectedState; },
                                5000));
        QCOMPARE(probe.closeCode(), QWebSocketProtocol::CloseCodeNormal);
        QCOMPARE(probe.closeReason(), QStringLiteral("probe-ok"));
    }

    void eventsOutPresenceIn()
    {
        auto server = start();
        QVERIFY(server);
        HttpClient http(server->port());
        QCOMPARE(http.post("/publish", online("a")).status, 204);
        QCOMPARE(http.post("/publish", online("b")).status, 204);
        SseClient stream(server->port());
        QVERIFY(stream.open());
        WebSocketClient a(server->port()), b(server->port());
        QVERIFY(a.open("a"));
        QVERIFY(b.open("b"));
        a.send(update("a", 1) + " ");
        a.send("not json"); // dropped silently
        a.send("{\"type\":\"punch\",\"peerId\":\"a\"}");
        a.send("{\"type\":\"update\",\"peerId\":\"a\",\"ts\":2,\"verificationToken\":\"SECRET\"}");
        QCOMPARE(http.post("/publish", update("c", 3)).status, 204);
        QCOMPARE(b.waitForMessages(3), 3);
        QCOMPARE(a.waitForMessages(3), 3); // the sender gets its own
        QCOMPARE(stream.waitForEvents(3), 3);
        QCOMPARE(a.messages(), dataOf(stream));
        QCOMPARE(b.messages(), dataOf(stream));
        QVERIFY(b.messages().contains(
            QByteArray("{\"type\":\"update\",\"peerId\":\"a\",\"ts\":2,\"verified\":true}")));
        a.runFor(300);
        QCOMPARE(a.messages().size(), 3);
        QVERIFY(a.isOpen());
        QVERIFY(!server->log().contains("SECRET"));

        // Operators see it: rows say who is on a WebSocket, /metrics counts it all.
        const QByteArray peers = http.get("/peers.json").body;
        QVERIFY2(peers.contains("\"peer_id\":\"a\",\"type\":\"update\",\"content\":\"\",\"ts\":2,"),
                 peers.constData());
        QVERIFY2(peers.contains("\"ts\":2,\"last_seen\":"), peers.constData());
        QCOMPARE(peers.count("\"ws_connected\":true"), 2); // a and b, not c
        const QByteArray metrics = http.get("/metrics").body;
        for (const char *line :
             {"goop_websocket_connections 2\n", "goop_websocket_messages_received_total 4\n",
              "goop_websocket_frames_sent_total 6\n", "goop_sse_subscribers 1\n",
              "goop_sse_events_delivered_total 3\n",
              "goop_http_requests_total{route=\"/ws\",status=\"101\"} 2\n"})
            QVERIFY2(metrics.contains(line), line);
    }

    void pingsAndTheSilenceRule()
    {
        auto server = start();
        QVERIFY(server);
        QCOMPARE(HttpClient(server->port()).post("/publish", online("quiet")).status, 204);
        QCOMPARE(HttpClient(server->port()).post("/publish", online("alive")).status, 204);
        QCOMPARE(HttpClient(server->port()).post("/publish", online("ponging")).status, 204);
        RawWebSocket quiet(server->port());
        QVERIFY(quiet.upgrade("quiet"));
        WebSocketClient alive(server->port()); // answers every ping with a pong, as clients do
        QVERIFY(alive.open("alive"));
        const QList<quint8> frames = quiet.readFrames(700);
        QVERIFY2(frames.count(0x89) >= 2, "pings every 200 ms");
        // Silent for 1 s (--ws-timeout): closed; the one that answers stays.
        QElapsedTimer clock;
        clock.start();
        // In slices, so that `alive` answers its pings meanwhile (a blocking read of several
        // seconds would silence it too on a slow or sanitized run).
        while (quiet.isOpen() && clock.elapsed() < 6000) {
            quiet.readFrames(50);
            alive.runFor(50);
        }
        QVERIFY(!quiet.isOpen());
        QVERIFY2(clock.elapsed() < 4000, "closed soon after the timeout (1 s), not left open");
        alive.runFor(1000);
        QVERIFY(alive.isOpen());

        // A pong is something: a client that only answers pings stays.
        RawWebSocket ponging(server->port());
        QVERIFY(ponging.upgrade("ponging"));
        for (int i = 0; i < 10; ++i) {
            ponging.readFrames(200);
            ponging.sendPong();
        }
        QVERIFY(ponging.isOpen());
    }

    void replacedConnectionAnnouncesNothing()
    {
        auto server = start({"--ws-timeout", "60s"}); // the test reads SSE without answering pings
        QVERIFY(server);
        HttpClient http(server->port());
        QCOMPARE(http.post("/publish", online("p")).status, 204);
        SseClient stream(server->port());
        QVERIFY(stream.open());
        WebSocketClient first(server->port()), second(server->port());
        QVERIFY(first.open("p"));
        QVERIFY(second.open("p"));
        QVERIFY(first.waitForClose(5000));
        stream.readFor(1500); // three grace periods
        QVERIFY2(stream.events().isEmpty(), stream.body().replace('\n', ' ').constData());
        QVERIFY(http.get("/peers.json").body.contains("\"p\""));
        QVERIFY(second.isOpen());
        QVERIFY(http.get("/peers.json").body.contains("\"ws_connected\":true"));
        // Dropped: still listed during the grace, no longer on a WebSocket.
        second.socket().abort();
        QVERIFY(QTest::qWaitFor(
            [&] { return !http.get("/peers.json").body.contains("ws_connected"); }, 400));
        QVERIFY(http.get("/peers.json").body.contains("\"p\""));
    }

    void droppedConnectionAfterTheGrace()
    {
        auto server = start();
        QVERIFY(server);
        HttpClient http(server->port());
        QCOMPARE(http.post("/publish", online("gone")).status, 204);
        QCOMPARE(http.post("/publish", online("back")).status, 204);
        SseClient stream(server->port());
        QVERIFY(stream.open());

        // Back within the grace: nothing to announce; its redial is admitted at once.
        WebSocketClient back(server->port());
        QVERIFY(back.open("back"));
        back.socket().abort();
        QTest::qWait(100);
        WebSocketClient redial(server->port());
        QVERIFY(redial.open("back"));

        WebSocketClient gone(server->port());
        QVERIFY(gone.open("gone"));
        QElapsedTimer clock;
        clock.start();
        gone.socket().abort();
        QCOMPARE(stream.waitForEvents(1, 5000), 1);
        QVERIFY2(clock.elapsed() >= 400, "not before the grace (500 ms) is over");
        QCOMPARE(typeOf(stream.events()[0].data), QByteArray("offline"));
        QVERIFY(stream.events()[0].data.contains("\"peerId\":\"gone\""));
        stream.readFor(700);
        QCOMPARE(stream.events().size(), 1); // nothing for "back"
        QVERIFY(!http.get("/peers.json").body.contains("\"gone\""));
    }

    void slowWebSocketIsDroppedOthersGetEverything()
    {
        // Each of the 5,000 publishes below waits for its event: a batch window would make
        // every one of them wait for the window too.
        auto server = start({"--max-subscriber-backlog", "65536", "--ws-timeout", "60s",
                             "--ws-grace", "60s", "--batch-window", "0"});
        QVERIFY(server);
        HttpClient http(server->port());
        QCOMPARE(http.post("/publish", online("slow")).status, 204);
        RawWebSocket slow(server->port()); // never reads: the kernel buffers fill, then the cap
        QVERIFY(slow.upgrade("slow"));
        SseClient reader(server->port());
        QVERIFY(reader.open());
        const QByteArray label(4000, 'x');
        const int count = 5000; // 20 MB: far beyond loopback socket buffers
        for (int i = 0; i < count; ++i) {
            QCOMPARE(http.post("/publish", "{\"type\":\"update\",\"peerId\":\"p\",\"content\":\"" +
                                               label + "\",\"ts\":" + QByteArray::number(i + 1) +
                                               "}")
                         .status,
                     204);
            QCOMPARE(reader.waitForEvents(i + 1), i + 1);
        }
        QVERIFY(server->waitForLog("dropping subscriber"));
        QVERIFY(server->log().contains("peer \"slow\": WebSocket ended"));
    }

    void mixedCrowdSeesOneOrder()
    {
        auto server = start({"--ws-timeout", "60s"});
        QVERIFY(server);
        HttpClient http(server->port());
        std::vector<std::unique_ptr<SseClient>> streams;
        std::vector<std::unique_ptr<WebSocketClient>> sockets;
        for (int i = 0; i < 3; ++i)
            QCOMPARE(http.post("/publish", online("w" + QByteArray::number(i))).status, 204);
        for (int i = 0; i < 3; ++i) {
            const QByteArray peer = "w" + QByteArray::number(i);
            sockets.push_back(std::make_unique<WebSocketClient>(server->port()));
            QVERIFY(sockets.back()->open(peer));
            streams.push_back(std::make_unique<SseClient>(server->port()));
            QVERIFY(streams.back()->open());
        }
        // Publishers on both doors, interleaved: POSTs from two connections, frames from three.
        HttpClient other(server->port());
        const int rounds = 60;
        for (int i = 0; i < rounds; ++i) {
            QCOMPARE(http.post("/publish", update("h1", i)).status, 204);
            for (auto &socket : sockets)
                socket->send(update("ws", i));
            QCOMPARE(other.post("/publish", update("h2", i)).status, 204);
        }
        const int total = rounds * 5;
        QByteArrayList order;
        for (auto &stream : streams) {
            stream->waitForEvents(total, 20000);
            QVERIFY2(stream->events().size() == total,
                     stream->body().right(600).replace('\n', ' ').constData());
            if (order.isEmpty())
                order = dataOf(*stream);
            QCOMPARE(dataOf(*stream), order);
        }
        for (auto &socket : sockets) {
            QCOMPARE(socket->waitForMessages(total, 20000), total);
            QCOMPARE(socket->messages(), order);
        }
    }
};

QTEST_GUILESS_MAIN(TestWebSocket)
#include "tst_websocket.moc"
