// The whole server in this process, under load from several threads at once: publishers on
// their own threads (POST /publish), event streams (plain, resumed after a cut, from a
// snapshot), WebSockets that publish and receive, and /peers.json and /metrics read meanwhile.
// Every stream must get every event in each publisher's order. Built with ThreadSanitizer
// (tests/sanitizers/run-thread-sanitizer.sh) it is where a data race in the server shows: TSan
// cannot follow the server into a child process (clang 14 crashes on QProcess's clone()), so
// this test does not start one.
#include "app/logsink.h"
#include "app/rendezvousserver.h"
#include "httpclient.h"
#include "sseclient.h"
#include "websocketclient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QUrl>

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

namespace {

constexpr int publishers = 4;
constexpr int perPublisher = 400;

// Checks that each publisher's events came in its order, and counts them.
int inOrderCount(const QList<SseParser::Event> &events, QString *problem)
{
    std::vector<int> next(publishers, 0);
    int count = 0;
    for (const SseParser::Event &event : events) {
        if (event.type != "message")
            continue;
        const QJsonObject message = QJsonDocument::fromJson(event.data).object();
        const QStringList parts = message["content"].toString().split(QLatin1Char(':'));
        if (parts.size() != 2)
            continue; // a snapshot's or another peer's
        const int publisher = parts[0].toInt();
        const int seq = parts[1].toInt();
        if (publisher < 0 || publisher >= publishers || seq != next[publisher]) {
            *problem = QStringLiteral("publisher %1: got %2, expected %3")
                           .arg(publisher)
                           .arg(seq)
                           .arg(next[publisher]);
            return -1;
        }
        ++next[publisher];
        ++count;
    }
    return count;
}

} // namespace

class TestInProcess : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("goop.*.info=false"));
        m_server = std::make_unique<RendezvousServer>(unlimited(), 1000, m_logs);
        QVERIFY(!m_server->listen());
        m_port = quint16(QUrl(m_server->url()).port());
    }

    void cleanupTestCase() { m_server.reset(); }

    void publishersStreamsAndReadersAtOnce()
    {
        std::vector<std::unique_ptr<SseClient>> streams;
        for (int i = 0; i < 8; ++i) {
            streams.push_back(std::make_unique<SseClient>(m_port));
            QVERIFY(streams.back()->open());
        }
        WebSocketClient webSocket(m_port);
        HttpClient(m_port).post("/publish", "{\"type\":\"online\",\"peerId\":\"ws-peer\"}");
        QVERIFY(webSocket.open("ws-peer"));

        std::atomic<int> failures{0};
        std::vector<std::unique_ptr<QThread>> threads;
        for (int p = 0; p < publishers; ++p) {
            threads.emplace_back(QThread::create([this, p, &failures] {
                HttpClient http(m_port);
                for (int i = 0; i < perPublisher; ++i) {
                    const QByteArray body = "{\"type\":\"update\",\"peerId\":\"peer-" +
                                            QByteArray::number(p) + "\",\"content\":\"" +
                                            QByteArray::number(p) + ':' + QByteArray::number(i) +
                                            "\"}";
                    if (http.post("/publish", body).status != 204)
                        failures.fetch_add(1);
                }
            }));
        }
        threads.emplace_back(QThread::create([this, &failures] {
            HttpClient http(m_port);
            for (int i = 0; i < 60; ++i) {
                if (http.get(i % 2 ? "/peers.json" : "/metrics").status != 200)
                    failures.fetch_add(1);
            }
        }));
        for (const auto &thread : threads)
            thread->start();

        // Meanwhile, on this thread: a stream cut and resumed, one from a snapshot, and the
        // WebSocket publishing its heartbeats.
        QVERIFY(streams[0]->waitForEvents(20, 20000) >= 20);
        const QList<SseParser::Event> beforeTheCut = streams[0]->events();
        const QByteArray lastId = beforeTheCut.last().id;
        streams[0].reset();
        SseClient fromSnapshot(m_port, "/events?snapshot=1");
        QVERIFY(fromSnapshot.open());
        for (int i = 0; i < 10; ++i) {
            webSocket.send("{\"type\":\"update\",\"peerId\":\"ws-peer\"}");
            webSocket.runFor(5);
        }
        SseClient resumed(m_port, "/events", "Last-Event-ID: " + lastId + "\r\n");
        QVERIFY(resumed.open());

        for (const auto &thread : threads)
            QVERIFY(thread->wait(QDeadlineTimer(120000)));
        QCOMPARE(failures.load(), 0);
        const int total = publishers * perPublisher;
        for (size_t i = 1; i < streams.size(); ++i) {
            streams[i]->waitForEvents(total + 11, 20000);
            QString problem;
            QCOMPARE(inOrderCount(streams[i]->events(), &problem), total);
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
        }
        QVERIFY(webSocket.waitForMessages(total, 20000) >= total);
        // The cut stream and its resumption together: everything, once, in order. Its events
        // are the publishers', the WebSocket peer's 11 and the `resumed` mark.
        resumed.waitForEvents(int(total + 11 - beforeTheCut.size() + 1), 20000);
        QString problem;
        QCOMPARE(inOrderCount(beforeTheCut + resumed.events(), &problem), total);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(resumed.events().first().type, QByteArray("resumed"));
        fromSnapshot.waitForEvents(2, 5000);
        QCOMPARE(fromSnapshot.events().first().type, QByteArray("snapshot"));
    }

    // Keep-alive connections idle past a second go to the park's thread and come back to an
    // HTTP thread with their next request, from several clients at once.
    void idleConnectionsParkedAndTakenBack()
    {
        std::atomic<int> failures{0};
        std::vector<std::unique_ptr<QThread>> threads;
        for (int c = 0; c < 4; ++c) {
            threads.emplace_back(QThread::create([this, c, &failures] {
                HttpClient http(m_port);
                for (int round = 0; round < 3; ++round) {
                    if (round > 0)
                        QThread::msleep(1500);
                    for (int i = 0; i < 20; ++i) {
                        const QByteArray body = "{\"type\":\"update\",\"peerId\":\"idle-" +
                                                QByteArray::number(c) + "\"}";
                        if (http.post("/publish", body).status != 204)
                            failures.fetch_add(1);
                    }
                }
            }));
            threads.back()->start();
        }
        qint64 mostParked = 0;
        QDeadlineTimer deadline(60000);
        while (std::any_of(threads.begin(), threads.end(),
                           [](const auto &thread) { return !thread->isFinished(); }) &&
               !deadline.hasExpired()) {
            mostParked = std::max(mostParked, m_server->gauges().idleConnectionsParked);
            QTest::qWait(50);
        }
        for (const auto &thread : threads)
            QVERIFY(thread->wait(QDeadlineTimer(10000)));
        QCOMPARE(failures.load(), 0);
        QVERIFY2(mostParked >= 1 && mostParked <= 4, qPrintable(QString::number(mostParked)));
    }

    // Destroyed right after stop() while its writers still close hundreds of WebSockets:
    // they tell the server's WebSocket registry of each, which must outlive them (it did not,
    // and every stop with 10,000 WebSockets open crashed).
    void destroyedWhileItsWebSocketsClose()
    {
        auto server = std::make_unique<RendezvousServer>(unlimited(), 10000, m_logs);
        QVERIFY(!server->listen());
        const quint16 port = quint16(QUrl(server->url()).port());
        std::vector<std::unique_ptr<QTcpSocket>> sockets;
        for (int i = 0; i < 600; ++i) {
            sockets.push_back(std::make_unique<QTcpSocket>());
            QTcpSocket &socket = *sockets.back();
            socket.connectToHost(QHostAddress::LocalHost, port);
            // A peer publishes before its WebSocket is let in: both on one connection.
            const QByteArray peer = "closing-" + QByteArray::number(i);
            const QByteArray body = "{\"type\":\"online\",\"peerId\":\"" + peer + "\"}";
            socket.write("POST /publish HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                         "Content-Length: " +
                         QByteArray::number(body.size()) + "\r\n\r\n" + body +
                         "GET /ws?peer_id=" + peer +
                         " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\n\r\n");
        }
        // (Each online goes to every WebSocket open by then: the writers are busy, as they
        // should be for this.)
        // Most of them open is enough: what counts is that the writers have many to close.
        QTRY_VERIFY_WITH_TIMEOUT(server->gauges().webSockets >= qint64(sockets.size()) * 9 / 10,
                                 30000);
        server->stop();
        server.reset(); // at once: the writers are still closing
    }

private:
    static ServerConfig unlimited()
    {
        ServerConfig config;
        config.host = QStringLiteral("127.0.0.1");
        config.port = 0;
        config.threads = 2;
        config.access.peerPublishes.perSecond = 0;
        config.access.addressPublishes.perSecond = 0;
        config.access.connections.perSecond = 0;
        config.access.maxStreamsPerAddress = 0;
        return config;
    }

    LogSink m_logs;
    std::unique_ptr<RendezvousServer> m_server;
    quint16 m_port = 0;
};

QTEST_GUILESS_MAIN(TestInProcess)
#include "tst_inprocess.moc"
