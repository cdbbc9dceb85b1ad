// Per-client limits against the real server: who the client is (forged headers from a direct
// client are not believed, a trusted proxy's are), publishes per peer and per address, streams
// per address, new connections per address, and the memory a flood of peer IDs can take.
// Distinct clients are distinct loopback source addresses (127.0.0.x).
#include "httpclient.h"
#include "serverprocess.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTcpSocket>
#include <QTest>

namespace {

QByteArray update(const QByteArray &peer, int ts)
{
    return "{\"type\":\"update\",\"peerId\":\"" + peer + "\",\"ts\":" + QByteArray::number(ts) +
           "}";
}

QByteArray publishRequest(const QByteArray &body, const QByteArray &extraHeaders = {})
{
    return "POST /publish HTTP/1.1\r\nHost: x\r\n" + extraHeaders +
           "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

// Sends `requests` pipelined on one connection from `from`, 100 at a time, and returns their
// statuses (and each 429's Retry-After in `retryAfter`, when asked).
QList<int> pipelined(quint16 port, const QHostAddress &from, const QList<QByteArray> &requests,
                     QList<int> *retryAfter = nullptr)
{
    QTcpSocket socket;
    socket.bind(from);
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return {};
    QList<int> statuses;
    QByteArray answers; // not yet counted
    for (qsizetype sent = 0; sent < requests.size();) {
        const qsizetype window = qMin<qsizetype>(100, requests.size() - sent);
        QByteArray bytes;
        for (qsizetype i = sent; i < sent + window; ++i)
            bytes += requests[i];
        socket.write(bytes);
        sent += window;
        QElapsedTimer clock;
        clock.start();
        while (statuses.size() < sent && clock.elapsed() < 10000) {
            if (!socket.waitForReadyRead(200) && socket.state() != QAbstractSocket::ConnectedState)
                return statuses;
            answers += socket.readAll();
            // Every answer here is a head with a Content-Length body.
            for (qsizetype end; (end = answers.indexOf("\r\n\r\n")) >= 0;) {
                const QByteArray head = answers.left(end);
                const qsizetype lengthAt = head.indexOf("Content-Length: ");
                const qsizetype length =
                    lengthAt < 0 ? 0 : head.mid(lengthAt + 16).split('\r').first().toLongLong();
                if (answers.size() < end + 4 + length)
                    break;
                statuses.append(head.mid(9, 3).toInt());
                if (retryAfter && statuses.last() == 429) {
                    const qsizetype at = head.indexOf("Retry-After: ");
                    retryAfter->append(at < 0 ? -1 : head.mid(at + 13).split('\r').first().toInt());
                }
                answers.remove(0, end + 4 + length);
            }
        }
    }
    return statuses;
}

QHostAddress loopback(int last)
{
    return QHostAddress(QStringLiteral("127.0.0.%1").arg(last));
}

// Opens /events from `from`; the status of the answer (0: none).
int openStream(QTcpSocket &socket, quint16 port, const QHostAddress &from,
               const QByteArray &extraHeaders = {})
{
    socket.bind(from);
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return 0;
    socket.write("GET /events HTTP/1.1\r\nHost: x\r\n" + extraHeaders + "\r\n");
    QByteArray head;
    QElapsedTimer clock;
    clock.start();
    while (!head.contains("\r\n\r\n") && clock.elapsed() < 5000) {
        socket.waitForReadyRead(100);
        head += socket.readAll();
    }
    return head.startsWith("HTTP/1.1 ") ? head.mid(9, 3).toInt() : 0;
}

} // namespace

class TestClientLimits : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void forgedHeadersFromADirectClientAreNotBelieved_data()
    {
        QTest::addColumn<QStringList>("trust");
        QTest::newRow("no trusted proxy") << QStringList();
        QTest::newRow("another proxy trusted") << QStringList{"--trusted-proxy", "10.0.0.0/8"};
    }
    void forgedHeadersFromADirectClientAreNotBelieved()
    {
        QFETCH(QStringList, trust);
        ServerProcess server(QStringList{"--address-publish-rate", "0.1", "--address-publish-burst",
                                         "3", "--peer-publish-rate", "0"} +
                             trust);
        QVERIFY(server.start());
        // Every request claims another client, in every header there is: one client still.
        QList<QByteArray> requests;
        for (int i = 0; i < 6; ++i) {
            const QByteArray forged = "198.51.100." + QByteArray::number(i + 1);
            requests.append(publishRequest(update("p" + QByteArray::number(i), 1),
                                           "X-Forwarded-For: " + forged + "\r\nForwarded: for=" +
                                               forged + "\r\nX-Real-IP: " + forged + "\r\n"));
        }
        QCOMPARE(pipelined(server.port(), loopback(2), requests),
                 (QList<int>{204, 204, 204, 429, 429, 429}));
        // Another client is not touched.
        QCOMPARE(pipelined(server.port(), loopback(3), {publishRequest(update("q", 1))}),
                 QList<int>{204});
    }

    void aTrustedProxyNamesEachClient()
    {
        // 127.0.0.1 plays the proxy: its requests count for the client they name.
        ServerProcess server({"--trusted-proxy", "127.0.0.1", "--address-publish-rate", "0.1",
                              "--address-publish-burst", "3", "--peer-publish-rate", "0"});
        QVERIFY(server.start());
        const auto via = [](const QByteArray &chain) {
            return "X-Forwarded-For: " + chain + "\r\n";
        };
        QList<QByteArray> requests;
        for (int i = 0; i < 20; ++i) // twenty clients, one publish each: nobody is limited
            requests.append(publishRequest(update("p" + QByteArray::number(i), 1),
                                           via("198.51.100." + QByteArray::number(i + 1))));
        QCOMPARE(pipelined(server.port(), loopback(1), requests), QList<int>(20, 204));
        // One client, four publishes: its own bucket runs dry, whatever it puts left of itself.
        requests.clear();
        for (int i = 0; i < 4; ++i)
            requests.append(
                publishRequest(update("r" + QByteArray::number(i), 1),
                               via("6.6.6." + QByteArray::number(i) + ", 203.0.113.9")));
        QCOMPARE(pipelined(server.port(), loopback(1), requests), (QList<int>{204, 204, 204, 429}));
        // The log names the client, not the proxy.
        QVERIFY(server.waitForLog("the latest from 203.0.113.9"));
    }

    void threeHundredPeersBehindOneAddressAreNeverLimited()
    {
        // Defaults. A NAT with 300 peers: all come online at once, then heartbeat every 5 s.
        ServerProcess server;
        QVERIFY(server.start());
        for (int round = 0; round < 3; ++round) {
            QElapsedTimer clock;
            clock.start();
            QList<QByteArray> requests;
            for (int peer = 0; peer < 300; ++peer)
                requests.append(
                    publishRequest(update("nat" + QByteArray::number(peer), round + 1)));
            const QList<int> statuses = pipelined(server.port(), loopback(5), requests);
            QCOMPARE(statuses.size(), 300);
            QCOMPARE(statuses.count(204), 300);
            if (round < 2)
                QTest::qWait(int(qMax<qint64>(0, 5000 - clock.elapsed())));
        }
        QCOMPARE(server.metric("goop_limited_total{limit=\"address_publish\"}"), 0.0);
        QCOMPARE(server.metric("goop_limited_total{limit=\"peer_publish\"}"), 0.0);
    }

    void onePeerAtAHundredASecondIsLimited()
    {
        ServerProcess server; // defaults: 2 a second, 20 at once, per peer
        QVERIFY(server.start());
        HttpClient http(server.port(), loopback(6));
        int accepted = 0, limited = 0;
        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < 200; ++i) { // 100 a second for 2 s
            const auto response = http.post("/publish", update("flood", i + 1));
            if (response.status == 204) {
                ++accepted;
            } else {
                QCOMPARE(response.status, 429);
                QCOMPARE(response.body, QByteArray("rate limit exceeded\n"));
                const int retry = response.header("Retry-After").toInt();
                QVERIFY2(retry >= 1 && retry <= 1, response.header("Retry-After").constData());
                ++limited;
            }
            QTest::qWait(int(qMax<qint64>(0, (i + 1) * 10 - clock.elapsed())));
        }
        const double seconds = clock.elapsed() / 1000.0;
        // The burst, then two a second.
        QVERIFY2(accepted >= 20 && accepted <= 20 + 2 * seconds + 2,
                 qPrintable(QStringLiteral("%1 accepted in %2 s").arg(accepted).arg(seconds)));
        QCOMPARE(accepted + limited, 200);
        // Nobody else pays for it: another peer on the same address goes through.
        QCOMPARE(http.post("/publish", update("calm", 1)).status, 204);
        QCOMPARE(server.metric("goop_limited_total{limit=\"peer_publish\"}"), double(limited));
        // One log line for the flood, not one per refusal.
        QVERIFY(server.waitForLog("limit peer_publish"));
        QCOMPARE(server.log().count("limit peer_publish"), 1);
    }

    void aFloodOfPeerIdsKeepsTheBucketsBounded()
    {
        ServerProcess server({"--address-publish-rate", "0", "--max-connections", "4000"});
        QVERIFY(server.start());
        const double before = server.metric("process_resident_memory_bytes");
        constexpr int flood = 100000;
        for (int start = 0; start < flood; start += 5000) {
            QList<QByteArray> requests;
            for (int i = start; i < start + 5000; ++i)
                requests.append(publishRequest(update("id" + QByteArray::number(i), 1)));
            const QList<int> statuses = pipelined(server.port(), loopback(7), requests);
            QVERIFY2(statuses.count(204) == 5000,
                     qPrintable(QStringLiteral("%1 of %2 answered, 204: %3, 429: %4")
                                    .arg(statuses.size())
                                    .arg(requests.size())
                                    .arg(statuses.count(204))
                                    .arg(statuses.count(429))));
        }
        const double keys = server.metric("goop_limit_keys{limit=\"peer_publish\"}");
        QVERIFY2(keys > 0 && keys <= 65536, qPrintable(QString::number(keys)));
        const double after = server.metric("process_resident_memory_bytes");
        // 100,000 peers are online now (176 B each); the buckets add at most a few MB more.
        qInfo("peer buckets held after %d distinct peer IDs: %.0f; RSS %.1f -> %.1f MB", flood,
              keys, before / 1e6, after / 1e6);
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
        return; // ASan's quarantine and shadow memory make RSS say nothing about the server's
#endif
#endif
        QVERIFY2(after - before < 80e6, qPrintable(QString::number((after - before) / 1e6)));
    }

#ifdef Q_OS_LINUX
    // A burst of memory that is freed again (a flood of peers with big fields, expired) goes
    // back to the system, not only to malloc: RSS returns near where it was (HeapTrimmer).
    void aFloodThatExpiresGivesItsMemoryBack()
    {
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
        QSKIP("ASan keeps freed memory in its quarantine");
#endif
#endif
        // A small history, so that what stays is the server's, not the events kept for resumes.
        ServerProcess server(QStringList{"--peer-ttl", "2s", "--history-bytes", "1048576"} +
                             ServerProcess::floodArguments());
        QVERIFY(server.start());
        const auto anonymousKb = [&] {
            QFile file(QStringLiteral("/proc/%1/smaps_rollup").arg(server.pid()));
            if (!file.open(QIODevice::ReadOnly))
                return qint64(-1);
            for (const QByteArray &line : file.readAll().split('\n'))
                if (line.startsWith("Anonymous:"))
                    return line.mid(10).trimmed().split(' ').first().toLongLong();
            return qint64(-1);
        };
        const qint64 before = anonymousKb();
        const QByteArray content(3000, 'x');
        for (int start = 0; start < 20000; start += 5000) {
            QList<QByteArray> requests;
            for (int i = start; i < start + 5000; ++i)
                requests.append(publishRequest("{\"type\":\"online\",\"peerId\":\"big" +
                                               QByteArray::number(i) + "\",\"content\":\"" +
                                               content + "\"}"));
            QCOMPARE(pipelined(server.port(), loopback(13), requests).count(204), 5000);
        }
        const qint64 peak = anonymousKb();
        QTRY_VERIFY_WITH_TIMEOUT(server.metric("goop_peers{type=\"online\"}") == 0, 20000);
        // Within two of the trimmer's rounds (10 s each).
        qint64 after = anonymousKb();
        QElapsedTimer clock;
        clock.start();
        while (after - before >= (peak - before) / 4 && clock.elapsed() < 25000) {
            QTest::qWait(250);
            after = anonymousKb();
        }
        qInfo("anonymous memory: %lld kB before, %lld kB with 20,000 peers of 3 kB, %lld kB after "
              "they expired",
              static_cast<long long>(before), static_cast<long long>(peak),
              static_cast<long long>(after));
        QVERIFY(peak - before > 40000);
        QVERIFY2(after - before < (peak - before) / 4, "the freed memory stayed with the server");
    }
#endif

    void streamsPerAddress()
    {
        ServerProcess server({"--max-streams-per-address", "2"});
        QVERIFY(server.start());
        QTcpSocket first, second, third, elsewhere;
        QCOMPARE(openStream(first, server.port(), loopback(8)), 200);
        QCOMPARE(openStream(second, server.port(), loopback(8)), 200);
        QCOMPARE(openStream(third, server.port(), loopback(8)), 429);
        QCOMPARE(openStream(elsewhere, server.port(), loopback(9)), 200);
        // A stream that ends gives its place back.
        first.abort();
        int status = 0;
        for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
            QTcpSocket probe;
            status = openStream(probe, server.port(), loopback(8));
            if (status != 200)
                QTest::qWait(100);
            else
                probe.abort();
        }
        QCOMPARE(status, 200);
    }

    void theSseRefusalSaysWhy()
    {
        ServerProcess server({"--max-streams-per-address", "1"});
        QVERIFY(server.start());
        QTcpSocket held;
        QCOMPARE(openStream(held, server.port(), loopback(10)), 200);
        HttpClient http(server.port(), loopback(10));
        const auto refused = http.get("/events");
        QCOMPARE(refused.status, 429);
        QCOMPARE(refused.body, QByteArray("too many SSE connections from 127.0.0.10 (1)\n"));
        QVERIFY(refused.hasHeader("Retry-After"));
    }

    void newConnectionsPerAddress()
    {
        ServerProcess server({"--connection-rate", "0.5", "--connection-burst", "3"});
        QVERIFY(server.start());
        QList<int> statuses;
        QList<QByteArray> retryAfter;
        for (int i = 0; i < 5; ++i) {
            HttpClient http(server.port(), loopback(11));
            const auto response = http.get("/healthz");
            statuses.append(response.status);
            retryAfter.append(response.header("Retry-After"));
        }
        QCOMPARE(statuses, (QList<int>{200, 200, 200, 429, 429}));
        QCOMPARE(retryAfter.last(), QByteArray("2"));
        HttpClient other(server.port(), loopback(12));
        QCOMPARE(other.get("/healthz").status, 200);
    }
};

QTEST_GUILESS_MAIN(TestClientLimits)
#include "tst_clientlimits.moc"
