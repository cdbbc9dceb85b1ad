// What any server on the internet must have and Qt 6.4 lacks: size caps, timeouts, a
// connection cap, strict request parsing, and a bound on slow subscribers.
#include "httpclient.h"
#include "serverprocess.h"
#include "sseclient.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QTcpSocket>
#include <QTest>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#ifdef Q_OS_LINUX
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#endif

namespace {

QByteArray publishRequest(const QByteArray &body, const QByteArray &extraHeaders = {})
{
    return "POST /publish HTTP/1.1\r\nHost: x\r\n" + extraHeaders +
           "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

// Writes each piece (a pause between them, so that each arrives alone), then reads until the
// server closes the connection or 5 s pass; everything it answered.
QByteArray exchange(quint16 port, const QList<QByteArray> &pieces)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return "not connected";
    QByteArray answers;
    for (const QByteArray &piece : pieces) {
        socket.write(piece);
        socket.waitForBytesWritten(1000);
        socket.waitForReadyRead(100);
        answers += socket.readAll();
    }
    QElapsedTimer clock;
    clock.start();
    while (socket.state() == QAbstractSocket::ConnectedState && clock.elapsed() < 5000) {
        socket.waitForReadyRead(200);
        answers += socket.readAll();
    }
    return answers + socket.readAll();
}

// The status codes of the responses in `answers`, in order.
QList<QByteArray> statuses(const QByteArray &answers)
{
    QList<QByteArray> found;
    for (qsizetype at = answers.indexOf("HTTP/1.1 "); at >= 0;
         at = answers.indexOf("HTTP/1.1 ", at + 1))
        found.append(answers.mid(at + 9, 3));
    return found;
}

} // namespace

class TestLimits : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_server = new ServerProcess({"--request-timeout", "700ms", "--idle-timeout", "1500ms"});
        QVERIFY(m_server->start());
    }
    void cleanupTestCase() { delete m_server; }

    void bodyCap()
    {
        // Exactly 64 KiB is accepted (the padding is an unknown field) ...
        QByteArray body = "{\"type\":\"online\",\"peerId\":\"big\",\"pad\":\"\"}";
        body.insert(body.size() - 2, QByteArray(65536 - body.size(), 'x'));
        QCOMPARE(body.size(), 65536);
        HttpClient http(m_server->port());
        QCOMPARE(http.raw(publishRequest(body)).status, 204);
        // ... one byte more is refused before the body is read, and nothing changes.
        HttpClient tooBig(m_server->port());
        const auto r =
            tooBig.raw(publishRequest("{\"type\":\"online\",\"peerId\":\"bigger\",\"pad\":\"" +
                                      QByteArray(65536, 'x') + "\"}"));
        QCOMPARE(r.status, 413);
        QCOMPARE(r.body, QByteArray("request body too large\n"));
        QVERIFY(tooBig.waitForClose(3000));
        QVERIFY(!HttpClient(m_server->port()).get("/peers.json").body.contains("bigger"));
        // A huge declared length is refused at once, without waiting for the bytes.
        HttpClient liar(m_server->port());
        QCOMPARE(liar.raw("POST /publish HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n").status,
                 413);
    }

    void headerCaps()
    {
        HttpClient longHeader(m_server->port());
        const auto r = longHeader.raw(
            "GET /healthz HTTP/1.1\r\nX-Big: " + QByteArray(17 * 1024, 'h') + "\r\n\r\n");
        QCOMPARE(r.status, 431);
        QCOMPARE(r.body, QByteArray("request header too large\n"));
        QVERIFY(longHeader.waitForClose(3000));

        // An endless header line is cut off once it passes the cap, not buffered forever.
        HttpClient endless(m_server->port());
        QCOMPARE(
            endless.raw("GET /healthz HTTP/1.1\r\nX-Endless: " + QByteArray(64 * 1024, 'e')).status,
            431);

        QByteArray many = "GET /healthz HTTP/1.1\r\n";
        for (int i = 0; i < 101; ++i)
            many += "X-H" + QByteArray::number(i) + ": v\r\n";
        HttpClient manyHeaders(m_server->port());
        const auto m = manyHeaders.raw(many + "\r\n");
        QCOMPARE(m.status, 431);
        QCOMPARE(m.body, QByteArray("too many header fields\n"));
    }

    void malformedRequests_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::newRow("garbage line") << QByteArray("HELLO\r\n\r\n") << 400;
        QTest::newRow("no version") << QByteArray("GET /healthz\r\n\r\n") << 400;
        QTest::newRow("http/2 preface") << QByteArray("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") << 505;
        QTest::newRow("header without colon")
            << QByteArray("GET /healthz HTTP/1.1\r\nBroken header\r\n\r\n") << 400;
        QTest::newRow("space before colon")
            << QByteArray("GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n") << 400;
        QTest::newRow("bad length")
            << QByteArray("POST /publish HTTP/1.1\r\nContent-Length: 1x\r\n\r\n") << 400;
        QTest::newRow("conflicting lengths")
            << QByteArray(
                   "POST /publish HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
            << 400;
        QTest::newRow("chunked") << QByteArray("POST /publish HTTP/1.1\r\nTransfer-Encoding: "
                                               "chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
                                 << 411;
        QTest::newRow("odd expectation")
            << QByteArray("POST /publish HTTP/1.1\r\nExpect: magic\r\nContent-Length: 2\r\n\r\n{}")
            << 417;
    }
    void malformedRequests()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        HttpClient http(m_server->port());
        const auto r = http.raw(request);
        QCOMPARE(r.status, status);
        QCOMPARE(r.header("Connection"), QByteArray("close"));
        QVERIFY(!r.body.isEmpty() && r.body.endsWith('\n') && r.body.count('\n') == 1);
        QVERIFY(http.waitForClose(3000));
    }

    void noRequestSmuggling()
    {
        // A malformed header must not make the server lose Content-Length and read the body
        // as a second request (what 6.4 alone does).
        const QByteArray inner = publishRequest("{\"type\":\"online\",\"peerId\":\"smuggled\"}");
        HttpClient http(m_server->port());
        const auto r = http.raw(
            "POST /publish HTTP/1.1\r\nContent-Length: " + QByteArray::number(inner.size()) +
            "\r\nBad:header:\x01line\r\nBroken\r\n\r\n" + inner);
        QCOMPARE(r.status, 400);
        QTest::qWait(100);
        QVERIFY(!HttpClient(m_server->port()).get("/peers.json").body.contains("smuggled"));
    }

    void requestTimeout()
    {
        HttpClient halfHeaders(m_server->port());
        QElapsedTimer clock;
        clock.start();
        const auto r = halfHeaders.raw("GET /healthz HTTP/1.1\r\nHost: x\r\n", 5000);
        QCOMPARE(r.status, 408);
        QCOMPARE(r.body, QByteArray("request timeout\n"));
        QVERIFY2(clock.elapsed() >= 600 && clock.elapsed() < 4000,
                 qPrintable(QString::number(clock.elapsed())));
        QVERIFY(halfHeaders.waitForClose(3000));

        HttpClient shortBody(m_server->port());
        QCOMPARE(
            shortBody.raw("POST /publish HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"type\"", 5000)
                .status,
            408);
    }

    void idleConnectionsAreClosed()
    {
        HttpClient http(m_server->port());
        QCOMPARE(http.get("/healthz").status, 200);
        QElapsedTimer clock;
        clock.start();
        QVERIFY(http.waitForClose(6000));
        QVERIFY2(clock.elapsed() >= 1000, qPrintable(QString::number(clock.elapsed())));
    }

#ifdef Q_OS_LINUX // plain sockets: a QTcpSocket per connection would read whenever events run
    // Issue 16, item 8: idle keep-alive connections wait outside the HTTP threads (whose Qt
    // event loop scans every socket at every wake-up), and nothing else changes for them: their
    // next requests are answered in order, a client's close frees the place, the idle timeout
    // still ends them.
    void idleKeepAliveConnectionsWaitOutsideTheHttpThreads()
    {
        constexpr int count = 1500;
        rlimit files{};
        ::getrlimit(RLIMIT_NOFILE, &files);
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
        ServerProcess server(QStringList{"--idle-timeout", "8s"} + ServerProcess::floodArguments());
        QVERIFY(server.start());
        const double alone = server.metric("goop_connections");
        std::vector<int> idle;
        auto closeAll = qScopeGuard([&] {
            for (const int fd : idle)
                ::close(fd);
        });
        const auto send = [](int fd, const QByteArray &bytes) {
            return ::send(fd, bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL) ==
                   bytes.size();
        };
        // Everything that arrives within `timeoutMs`, or until the connection ends.
        const auto receive = [](int fd, int timeoutMs, int answers) {
            QByteArray got;
            QElapsedTimer clock;
            clock.start();
            while (statuses(got).size() < answers && clock.elapsed() < timeoutMs) {
                timeval wait{0, 100000};
                ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
                char chunk[4096];
                const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
                if (n == 0)
                    break;
                if (n > 0)
                    got.append(chunk, n);
            }
            return got;
        };
        for (int i = 0; i < count; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(server.port());
            to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            QCOMPARE(::connect(fd, reinterpret_cast<sockaddr *>(&to), sizeof to), 0);
            idle.push_back(fd);
            QVERIFY(send(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
            QCOMPARE(statuses(receive(fd, 5000, 1)), QList<QByteArray>{"200"});
        }
        const auto waitFor = [&](const QByteArray &sample, double value) {
            QElapsedTimer clock;
            clock.start();
            double seen = server.metric(sample);
            while (seen != value && clock.elapsed() < 10000) {
                QTest::qWait(100);
                seen = server.metric(sample);
            }
            if (seen != value)
                qWarning("%s is %g, not %g", sample.constData(), seen, value);
            return seen == value;
        };
        QVERIFY(waitFor("goop_connections_idle_parked", count));

        // Back from the park with their next requests, pipelined ones included, in order.
        for (int i = 0; i < 100; ++i) {
            QVERIFY(send(idle[size_t(i)], "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" +
                                              publishRequest("{\"type\":\"online\",\"peerId\":\"p" +
                                                             QByteArray::number(i) + "\"}")));
            QCOMPARE(statuses(receive(idle[size_t(i)], 5000, 2)),
                     (QList<QByteArray>{"200", "204"}));
        }
        QCOMPARE(HttpClient(server.port()).get("/peers.json").body.count("\"peer_id\""), 100);
        QVERIFY(waitFor("goop_connections_idle_parked", count)); // parked again

        // Clients that leave free their places without going back to an HTTP thread.
        for (int i = 0; i < 500; ++i)
            ::close(idle[size_t(count - 1 - i)]);
        idle.resize(count - 500);
        QVERIFY(waitFor("goop_connections_idle_parked", count - 500));
        QVERIFY(waitFor("goop_connections", alone + count - 500));

        // The idle timeout, counted from each one's last request, ends the rest.
        QElapsedTimer clock;
        clock.start();
        for (const int fd : idle) {
            char byte;
            timeval wait{20, 0};
            ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
            QCOMPARE(::recv(fd, &byte, 1, 0), ssize_t(0)); // the server's end, not a timeout
        }
        QVERIFY2(clock.elapsed() < 20000, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(waitFor("goop_connections_idle_parked", 0));
        QVERIFY(waitFor("goop_connections", alone));
    }
#endif

    // Thousands of pipelined requests in one write reach the server in several reads, a
    // request split anywhere; those the fast lane leaves to QtHttpServer (which takes one per
    // read and is offered the rest again) sit among them. Every one is answered, in order.
    // Before the guard counted what it had inspected, request 1,332 got a 400.
    void thousandsOfPipelinedRequestsAcrossReads()
    {
        ServerProcess server(ServerProcess::floodArguments());
        QVERIFY(server.start());
        QByteArray requests;
        QList<QByteArray> expected;
        for (int i = 0; i < 5000; ++i) {
            if (i % 97 == 50) {
                requests += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
                expected.append("200");
            } else if (i % 211 == 100) {
                requests += "GET /?x HTTP/1.1\r\nHost: x\r\n\r\n"; // QtHttpServer's door
                expected.append("200");
            } else {
                requests += publishRequest("{\"type\":\"update\",\"peerId\":\"id" +
                                           QByteArray::number(i) + "\"}");
                expected.append("204");
            }
        }
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, server.port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write(requests);
        QByteArray answers;
        QElapsedTimer clock;
        clock.start();
        while (statuses(answers).size() < expected.size() && clock.elapsed() < 30000 &&
               socket.state() == QAbstractSocket::ConnectedState) {
            socket.waitForReadyRead(200);
            answers += socket.readAll();
        }
        QCOMPARE(statuses(answers), expected);
    }

    // Issue 16, item 7: a connection that never sends a byte holds its place for the request
    // timeout, not for the idle timeout.
    void silentConnectionsGetTheRequestTimeout()
    {
        ServerProcess server({"--request-timeout", "1s", "--idle-timeout", "60s"});
        QVERIFY(server.start());
        QTcpSocket silent;
        silent.connectToHost(QHostAddress::LocalHost, server.port());
        QVERIFY(silent.waitForConnected(3000));
        QElapsedTimer clock;
        clock.start();
        while (silent.state() == QAbstractSocket::ConnectedState && clock.elapsed() < 30000)
            silent.waitForDisconnected(100);
        QCOMPARE(silent.state(), QAbstractSocket::UnconnectedState);
        QVERIFY2(clock.elapsed() >= 800, qPrintable(QString::number(clock.elapsed())));
    }

    void eventStreamsHaveNoTimeout()
    {
        SseClient stream(m_server->port());
        QVERIFY(stream.open());
        stream.readFor(2500); // beyond both the request and the idle timeouts
        QCOMPARE(stream.socket()->state(), QAbstractSocket::ConnectedState);
        HttpClient http(m_server->port());
        http.post("/publish", "{\"type\":\"update\",\"peerId\":\"late\"}");
        QCOMPARE(stream.waitForEvents(1), 1);
    }

    void expectContinue()
    {
        HttpClient http(m_server->port());
        const QByteArray body = "{\"type\":\"online\",\"peerId\":\"patient\"}";
        const auto interim = http.raw(
            "POST /publish HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
            QByteArray::number(body.size()) + "\r\n\r\n");
        QCOMPARE(interim.status, 100);
        QCOMPARE(http.raw(body).status, 204);
        QVERIFY(http.get("/peers.json").body.contains("patient"));
    }

    void connectionCloseIsHonoured()
    {
        HttpClient http11(m_server->port());
        const auto r = http11.raw("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
        QCOMPARE(r.body, QByteArray("ok"));
        QVERIFY(http11.waitForClose(1000));

        HttpClient http10(m_server->port());
        QCOMPARE(http10.raw("GET /healthz HTTP/1.0\r\n\r\n").body, QByteArray("ok"));
        QVERIFY(http10.waitForClose(1000));

        HttpClient keepAlive(m_server->port());
        QCOMPARE(keepAlive.raw("GET /healthz HTTP/1.1\r\n\r\n").body, QByteArray("ok"));
        QCOMPARE(keepAlive.raw("GET /healthz HTTP/1.1\r\n\r\n").body, QByteArray("ok"));
    }

    void pipelinedRequestsAreAnsweredInOrder()
    {
        // One thread, so that a worker stuck on a request would stall the next connection.
        ServerProcess server({"--threads", "1"});
        QVERIFY(server.start());
        const QByteArray healthz = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        const QByteArray closing = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        // All in one write: a pipelining client.
        const auto exchange = [&](const QByteArray &requests) {
            return ::exchange(server.port(), {requests});
        };
        const QByteArray publish = publishRequest(R"({"type":"online","peerId":"piped"})");
        // Every request answered, in order, and the connection closed after the one asking.
        QCOMPARE(statuses(exchange(publish + healthz + publish + closing)),
                 (QList<QByteArray>{"204", "200", "204", "200"}));
        // Nothing after a request that closes the connection is parsed (it used to spin).
        QCOMPARE(statuses(exchange(closing + healthz)), (QList<QByteArray>{"200"}));
        QCOMPARE(HttpClient(server.port()).get("/healthz").body, QByteArray("ok"));
    }

    // Requests the guard answers itself (publish, peers.json: the fast lane) and those it leaves
    // to QtHttpServer (the dashboard), mixed on one connection, pipelined and one at a time:
    // answered in order, each seeing every publish before it.
    void bothDoorsKeepTheOrder()
    {
        ServerProcess server({"--threads", "1"});
        QVERIFY(server.start());
        const auto publish = [](const char *peer) {
            return publishRequest(R"({"type":"online","peerId":")" + QByteArray(peer) + R"("})");
        };
        const QByteArray dashboard = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        const QByteArray peers = "GET /peers.json HTTP/1.1\r\nHost: x\r\n\r\n";
        const QByteArray closing = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

        QByteArray answers =
            exchange(server.port(), {publish("a") + dashboard + publish("b") + peers + closing});
        QCOMPARE(statuses(answers), (QList<QByteArray>{"204", "200", "204", "200", "200"}));
        QVERIFY(answers.contains(R"("peer_id":"a")") && answers.contains(R"("peer_id":"b")"));

        answers = exchange(server.port(),
                           {publish("c"), dashboard, publish("d"), peers, publish("e"), closing});
        QCOMPARE(statuses(answers), (QList<QByteArray>{"204", "200", "204", "200", "204", "200"}));
        const qsizetype list =
            answers.lastIndexOf("HTTP/1.1 200", answers.lastIndexOf("HTTP/1.1 204"));
        QVERIFY(answers.indexOf(R"("peer_id":"d")", list) > list);
        QVERIFY(answers.indexOf(R"("peer_id":"e")", list) < 0); // published after the list
        // Every request counted once, through whichever door it came.
        const QByteArray metrics = HttpClient(server.port()).get("/metrics").body;
        QVERIFY2(metrics.contains(R"(goop_http_requests_total{route="/publish",status="204"} 5)"),
                 metrics.constData());
    }

    // Mangled requests in random pieces: whatever comes, the server answers or closes, and
    // stays responsive (one HTTP thread, so that a thread stuck on a connection shows).
    void mangledRequestsNeverStallTheServer()
    {
        ServerProcess server({"--threads", "1", "--request-timeout", "1s"});
        QVERIFY(server.start());
        const QByteArray body = R"({"type":"online","peerId":"fz","content":"x"})";
        const QList<QByteArray> requests = {
            publishRequest(body),
            "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /peers.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "HEAD / HTTP/1.0\r\n\r\n",
            publishRequest(body, "Expect: 100-continue\r\n"),
            "GET /events HTTP/1.1\r\nHost: x\r\n\r\n",
            "POST /publish HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        };
        QRandomGenerator random(20261124); // fixed: a failure can be replayed
        const auto mangle = [&](QByteArray bytes) {
            static const QByteArray inserts("\r\n :\0A9", 8);
            for (int edits = random.bounded(5); edits > 0 && !bytes.isEmpty(); --edits) {
                const int at = random.bounded(int(bytes.size()));
                switch (random.bounded(4)) {
                case 0:
                    bytes[at] = char(random.bounded(256));
                    break;
                case 1:
                    bytes.remove(at, 1);
                    break;
                case 2:
                    bytes.insert(at, inserts[random.bounded(int(inserts.size()))]);
                    break;
                default:
                    bytes.insert(at, bytes.mid(at, 1 + random.bounded(20)));
                    break;
                }
            }
            return bytes;
        };
        for (int round = 0; round < 150; ++round) {
            QByteArray input;
            for (int n = 1 + random.bounded(4); n > 0; --n)
                input += mangle(requests[random.bounded(int(requests.size()))]);
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, server.port());
            QVERIFY(socket.waitForConnected(5000));
            for (qsizetype at = 0; at < input.size();) {
                const qsizetype piece = 1 + random.bounded(int(input.size() - at));
                socket.write(input.mid(at, piece));
                socket.waitForBytesWritten(100);
                at += piece;
            }
            socket.waitForReadyRead(50);
            socket.abort();
            QVERIFY2(
                HttpClient(server.port()).raw("GET /healthz HTTP/1.1\r\n\r\n", 3000).body == "ok",
                qPrintable(QStringLiteral("stalled after round %1: %2")
                               .arg(round)
                               .arg(QString::fromLatin1(input.left(200).toPercentEncoding()))));
        }
    }

    void connectionCap()
    {
        ServerProcess server({"--max-connections", "3", "--log-level", "debug"});
        QVERIFY(server.start());
        QList<SseClient *> streams;
        for (int i = 0; i < 3; ++i) {
            streams.append(new SseClient(server.port()));
            QVERIFY(streams.last()->open());
        }
        HttpClient refused(server.port());
        const auto r = refused.get("/healthz");
        QCOMPARE(r.status, 503);
        QCOMPARE(r.body, QByteArray("server busy: too many connections\n"));
        QVERIFY(refused.waitForClose(3000));
        delete streams.takeFirst();
        int status = 0;
        for (int i = 0; i < 50 && status != 200; ++i) {
            status = HttpClient(server.port()).get("/healthz").status;
            QTest::qWait(100);
        }
        if (status != 200)
            qInfo().noquote() << server.log();
        QCOMPARE(status, 200);
        qDeleteAll(streams);
    }

#ifdef Q_OS_LINUX // /proc shows the limits a process runs with
    void openFileLimitIsRaised()
    {
        rlimit original{};
        QCOMPARE(::getrlimit(RLIMIT_NOFILE, &original), 0);
        QVERIFY2(original.rlim_max > 1024,
                 "the hard open-file limit must be above 1024 to show a raise");
        rlimit lowered = original;
        lowered.rlim_cur = 1024;
        QCOMPARE(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
        ServerProcess server;
        const bool started = server.start();
        ::setrlimit(RLIMIT_NOFILE, &original);
        QVERIFY(started);
        QFile limits(QStringLiteral("/proc/%1/limits").arg(server.pid()));
        QVERIFY(limits.open(QIODevice::ReadOnly));
        QByteArray line;
        for (const QByteArray &candidate : limits.readAll().split('\n'))
            if (candidate.startsWith("Max open files"))
                line = candidate;
        const QList<QByteArray> fields = line.simplified().split(' ');
        QCOMPARE(fields.value(3), fields.value(4)); // soft == hard
        QVERIFY(fields.value(3) != "1024");
    }
#endif

    // Issue 16, item 5: subscribers that never read cannot make the server hold more than
    // --max-backlog-total together (each alone may hold --max-subscriber-backlog); one that
    // reads gets every event; /metrics says what is held, and it is all given back.
    void stalledSubscribersHoldNoMoreThanTheTotal()
    {
        constexpr qint64 total = 8 * 1024 * 1024;
        // Each alone may hold far more than all together: only the total stops them.
        ServerProcess server(QStringList{"--max-subscriber-backlog", "67108864",
                                         "--max-backlog-total", QString::number(total)} +
                             ServerProcess::floodArguments());
        QVERIFY(server.start());
        const auto held = [&] { return server.metric("goop_stream_backlog_bytes"); };
        // Plain sockets that nobody reads (a QTcpSocket would read whenever events are
        // processed): 40 x 12 MB would be 480 MB.
        std::vector<int> stalled;
        for (int i = 0; i < 40; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            const int small = 4096;
            ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_port = htons(server.port());
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            QCOMPARE(::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
            const char request[] = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
            QCOMPARE(::send(fd, request, sizeof request - 1, 0), qint64(sizeof request - 1));
            stalled.push_back(fd);
        }
        const auto closeStalled = qScopeGuard([&] {
            for (const int fd : stalled)
                ::close(fd);
        });
        // A subscriber that keeps up: a thread of its own reads all the time.
        std::atomic<int> received{0};
        std::atomic<bool> stop{false};
        std::atomic<bool> readerDropped{false}; // the server closed the reader's stream
        const int readerFd = ::socket(AF_INET, SOCK_STREAM, 0);
        {
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_port = htons(server.port());
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            QCOMPARE(::connect(readerFd, reinterpret_cast<sockaddr *>(&address), sizeof address),
                     0);
            const char request[] = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
            QCOMPARE(::send(readerFd, request, sizeof request - 1, 0), qint64(sizeof request - 1));
        }
        const timeval tick{0, 100000};
        ::setsockopt(readerFd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
        // The stream is subscribed once its response has begun: an event published before would
        // not reach it (the expiry of the test's peer, 30 s later, once made up the count).
        QByteArray tail;
        char buffer[65536];
        for (QDeadlineTimer deadline(10000);
             !tail.contains("\r\n\r\n") && !deadline.hasExpired();) {
            const ssize_t n = ::recv(readerFd, buffer, sizeof buffer, 0);
            if (n > 0)
                tail += QByteArrayView(buffer, n);
        }
        QVERIFY2(tail.startsWith("HTTP/1.1 200"), tail.constData());
        const QByteArray update = "\ndata: {\"type\":\"update\"";
        std::thread readerThread([&] {
            while (!stop) {
                const ssize_t n = ::recv(readerFd, buffer, sizeof buffer, 0);
                if (n == 0) {
                    readerDropped = true;
                    break;
                }
                if (n < 0)
                    continue;
                // Only the test's updates count (not the peer's expiry). What is kept is shorter
                // than the marker: one split between two reads is found once and none twice.
                tail += QByteArrayView(buffer, n);
                received += int(tail.count(update));
                tail = tail.right(update.size() - 1);
            }
        });
        const auto stopReader = qScopeGuard([&] {
            stop = true;
            readerThread.join();
            ::close(readerFd);
        });
        HttpClient http(server.port());
        const QByteArray content(4000, 'c');
        double mostHeld = 0;
        const int count = 3000; // 12 MB for every stream
        for (int i = 0; i < count; ++i) {
            QCOMPARE(http.post("/publish", "{\"type\":\"update\",\"peerId\":\"p\",\"content\":\"" +
                                               content + "\",\"ts\":" + QByteArray::number(i + 1) +
                                               "}")
                         .status,
                     204);
            mostHeld = qMax(mostHeld, held()); // after every publish: a peak lasts a few
        }
        // A reader dropped as slow would never get them all: said at once, not after the wait.
        // (QTRY_ would wait twice as long again before failing, to say what would have passed.)
        for (QDeadlineTimer deadline(60000);
             received.load() < count && !readerDropped && !deadline.hasExpired();)
            QTest::qWait(50);
        QVERIFY2(
            !readerDropped,
            qPrintable(
                QStringLiteral("the reader was dropped after %1 events").arg(received.load())));
        QCOMPARE(received.load(), count);
        // The cap, and at most one backlog's growth per writer thread beyond it.
        qInfo("most held: %.1f MiB (cap %.1f MiB)", mostHeld / 1048576, double(total) / 1048576);
        QVERIFY2(mostHeld > 0 && mostHeld <= total + 4 * 1024 * 1024,
                 qPrintable(QString::number(mostHeld)));
        QTRY_COMPARE_WITH_TIMEOUT(held(), 0.0, 10000);
        const QByteArray metrics = HttpClient(server.port()).get("/metrics").body;
        QVERIFY(metrics.contains("\ngoop_sse_subscribers_dropped_total 40\n"));
        QVERIFY(metrics.contains("\ngoop_stream_backlog_max_bytes 8388608\n"));
    }

    void slowSubscriberIsDroppedOthersGetEverything()
    {
        // Each of the 5,000 publishes below waits for its event: a batch window would make
        // every one of them wait for the window too.
        ServerProcess server(
            QStringList{"--max-subscriber-backlog", "65536", "--batch-window", "0"} +
            ServerProcess::floodArguments());
        QVERIFY(server.start());
        // This one never reads: the kernel buffers fill, then the server's backlog cap trips.
        QTcpSocket stalled;
        stalled.connectToHost(QHostAddress::LocalHost, server.port());
        QVERIFY(stalled.waitForConnected(3000));
        stalled.write("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
        QVERIFY(stalled.waitForBytesWritten(3000));
        SseClient reader(server.port());
        QVERIFY(reader.open());

        HttpClient http(server.port());
        const QByteArray content(4000, 'c');
        const int count = 5000; // 20 MB: far beyond loopback socket buffers
        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < count; ++i) {
            const auto r =
                http.post("/publish", "{\"type\":\"update\",\"peerId\":\"p\",\"content\":\"" +
                                          content + "\",\"ts\":" + QByteArray::number(i + 1) + "}");
            QCOMPARE(r.status, 204);
            QCOMPARE(reader.waitForEvents(i + 1), i + 1);
        }
        qInfo("published %d events of 4 KB in %lld ms with one subscriber stalled", count,
              clock.elapsed());
        for (int i = 0; i < count; ++i)
            QVERIFY(reader.events()[i].data.endsWith(",\"ts\":" + QByteArray::number(i + 1) +
                                                     ",\"verified\":true}"));
        QVERIFY(server.log().contains("dropping subscriber"));
    }

private:
    ServerProcess *m_server = nullptr;
};

QTEST_GUILESS_MAIN(TestLimits)
#include "tst_limits.moc"
