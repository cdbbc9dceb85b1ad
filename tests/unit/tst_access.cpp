// The parts of per-client access on their own: who the client is behind a proxy, token
// buckets (with a clock the test drives), places per address, and the operators' password.
#include "access/addressplaces.h"
#include "access/clientaddress.h"
#include "access/operatordoor.h"
#include "access/tokenbuckets.h"

#include <QTemporaryDir>
#include <QTest>

using namespace std::chrono_literals;

class TestAccess : public QObject
{
    Q_OBJECT

private:
    static TrustedProxies proxies(const QStringList &subnets)
    {
        QString error;
        const auto parsed = TrustedProxies::parse(subnets, &error);
        return parsed ? *parsed : TrustedProxies();
    }

private Q_SLOTS:
    void clientAddress_data()
    {
        QTest::addColumn<QString>("peer");
        QTest::addColumn<QByteArray>("headers");
        QTest::addColumn<QString>("client");
        // The proxy is 10.0.0.1 (trusted: 10.0.0.0/8); 10.9.9.9 is a second trusted hop.
        QTest::newRow("untrusted peer: headers ignored")
            << "192.0.2.1" << QByteArray("X-Forwarded-For: 198.51.100.7\r\n") << "192.0.2.1";
        QTest::newRow("trusted, no header") << "10.0.0.1" << QByteArray() << "10.0.0.1";
        QTest::newRow("xff one hop")
            << "10.0.0.1" << QByteArray("X-Forwarded-For: 198.51.100.7\r\n") << "198.51.100.7";
        QTest::newRow("xff forged left part")
            << "10.0.0.1" << QByteArray("X-Forwarded-For: 6.6.6.6, 198.51.100.7\r\n")
            << "198.51.100.7";
        QTest::newRow("xff trusted hops skipped")
            << "10.0.0.1" << QByteArray("X-Forwarded-For: 6.6.6.6, 198.51.100.7, 10.9.9.9\r\n")
            << "198.51.100.7";
        QTest::newRow("xff over two header lines")
            << "10.0.0.1"
            << QByteArray("X-Forwarded-For: 6.6.6.6\r\nx-forwarded-for: 198.51.100.8\r\n")
            << "198.51.100.8";
        QTest::newRow("xff all trusted: the left-most")
            << "10.0.0.1" << QByteArray("X-Forwarded-For: 10.1.1.1, 10.9.9.9\r\n") << "10.1.1.1";
        QTest::newRow("xff garbage right-most: the proxy")
            << "10.0.0.1" << QByteArray("X-Forwarded-For: 198.51.100.7, nonsense\r\n")
            << "10.0.0.1";
        QTest::newRow("xff garbage behind a trusted hop: that hop")
            << "10.0.0.1" << QByteArray("X-Forwarded-For: nonsense, 10.9.9.9\r\n") << "10.9.9.9";
        QTest::newRow("xff ipv4 with port")
            << "10.0.0.1" << QByteArray("X-Forwarded-For: 198.51.100.7:4711\r\n") << "198.51.100.7";
        QTest::newRow("xff ipv6") << "10.0.0.1" << QByteArray("X-Forwarded-For: 2001:db8::7\r\n")
                                  << "2001:db8::7";
        QTest::newRow("xff ipv6 bracketed with port")
            << "10.0.0.1" << QByteArray("X-Forwarded-For: [2001:db8::7]:4711\r\n") << "2001:db8::7";
        QTest::newRow("xff mapped ipv4")
            << "10.0.0.1" << QByteArray("X-Forwarded-For: ::ffff:198.51.100.7\r\n")
            << "198.51.100.7";
        QTest::newRow("forwarded")
            << "10.0.0.1" << QByteArray("Forwarded: for=198.51.100.7;proto=https\r\n")
            << "198.51.100.7";
        QTest::newRow("forwarded list, quoted ipv6")
            << "10.0.0.1"
            << QByteArray(
                   "Forwarded: for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1\r\n")
            << "2001:db8:cafe::17";
        QTest::newRow("forwarded unknown: the proxy")
            << "10.0.0.1" << QByteArray("Forwarded: for=198.51.100.7, for=unknown\r\n")
            << "10.0.0.1";
        QTest::newRow("forwarded obfuscated: the proxy")
            << "10.0.0.1" << QByteArray("Forwarded: for=_hidden\r\n") << "10.0.0.1";
        QTest::newRow("forwarded element without for: the proxy")
            << "10.0.0.1" << QByteArray("Forwarded: proto=https\r\n") << "10.0.0.1";
        QTest::newRow("xff wins over forwarded")
            << "10.0.0.1"
            << QByteArray("Forwarded: for=6.6.6.6\r\nX-Forwarded-For: 198.51.100.7\r\n")
            << "198.51.100.7";
        QTest::newRow("x-real-ip")
            << "10.0.0.1" << QByteArray("X-Real-IP: 198.51.100.7\r\n") << "198.51.100.7";
        QTest::newRow("xff wins over x-real-ip")
            << "10.0.0.1" << QByteArray("X-Real-IP: 6.6.6.6\nX-Forwarded-For: 198.51.100.7\n")
            << "198.51.100.7";
        QTest::newRow("mapped peer is trusted")
            << "::ffff:10.0.0.1" << QByteArray("X-Forwarded-For: 198.51.100.7\r\n")
            << "198.51.100.7";
        QTest::newRow("mapped untrusted peer shown plain")
            << "::ffff:192.0.2.1" << QByteArray() << "192.0.2.1";
    }

    void clientAddress()
    {
        QFETCH(QString, peer);
        QFETCH(QByteArray, headers);
        QFETCH(QString, client);
        const TrustedProxies trusted = proxies({QStringLiteral("10.0.0.0/8")});
        QCOMPARE(trusted.clientOf(QHostAddress(peer), headers).toString(), client);
    }

    void proxiesParse()
    {
        QString error;
        const auto parsed = TrustedProxies::parse(
            {QStringLiteral("127.0.0.1"), QStringLiteral("10.0.0.0/8, 2001:db8::/32")}, &error);
        QVERIFY(parsed);
        QVERIFY(parsed->contains(QHostAddress("127.0.0.1")));
        QVERIFY(!parsed->contains(QHostAddress("127.0.0.2")));
        QVERIFY(parsed->contains(QHostAddress("10.200.0.1")));
        QVERIFY(parsed->contains(QHostAddress("2001:db8:1::1")));
        QVERIFY(!TrustedProxies::parse({QStringLiteral("10.0.0.0/33")}, &error));
        QVERIFY(error.contains(QLatin1String("10.0.0.0/33")));
        QVERIFY(!TrustedProxies::parse({QStringLiteral("proxy.example")}, &error));
    }

    void limitKeys()
    {
        // IPv6 clients count per /64; IPv4 per address, mapped or not.
        QCOMPARE(limitKey(QHostAddress("2001:db8:1:2::1")),
                 limitKey(QHostAddress("2001:db8:1:2::ff")));
        QVERIFY(limitKey(QHostAddress("2001:db8:1:2::1")) !=
                limitKey(QHostAddress("2001:db8:1:3::1")));
        QCOMPARE(limitKey(QHostAddress("::ffff:192.0.2.1")), limitKey(QHostAddress("192.0.2.1")));
        QVERIFY(limitKey(QHostAddress("192.0.2.1")) != limitKey(QHostAddress("192.0.2.2")));
    }

    void tokenBucket()
    {
        TokenBuckets buckets({2, 5}, 1000); // 2 a second, 5 at once
        const auto t0 = TokenBuckets::Clock::now();
        for (int i = 0; i < 5; ++i)
            QCOMPARE(buckets.take("a", t0).count(), 0);
        const auto wait = buckets.take("a", t0);
        QCOMPARE(wait, 500ms); // one token comes back in half a second
        QCOMPARE(buckets.waitFor("a", t0), 500ms);
        QCOMPARE(buckets.take("b", t0).count(), 0); // another key has its own bucket
        QCOMPARE(buckets.take("a", t0 + 499ms).count() > 0, true);
        QCOMPARE(buckets.take("a", t0 + 500ms).count(), 0);
        // Refills to the burst and no further.
        for (int i = 0; i < 5; ++i)
            QCOMPARE(buckets.take("a", t0 + 1h).count(), 0);
        QVERIFY(buckets.take("a", t0 + 1h).count() > 0);
        QCOMPARE(buckets.waitFor("unknown", t0), 0ms);
    }

    void tokenBucketsBounded()
    {
        // A flood of distinct keys never holds more than the cap, and a quiet period gives all
        // of it back (every bucket full again is as good as none).
        TokenBuckets buckets({1, 10}, 1000);
        const auto t0 = TokenBuckets::Clock::now();
        for (int i = 0; i < 100000; ++i) {
            buckets.take(QByteArray::number(i), t0);
            QVERIFY2(buckets.size() <= 1000, qPrintable(QString::number(buckets.size())));
        }
        QVERIFY(buckets.size() > 100);
        buckets.sweep(t0 + 11s);
        buckets.sweep(t0 + 22s);
        QCOMPARE(buckets.size(), 0);
    }

    void tokenBucketKeptWhileBusy()
    {
        // A key that keeps taking is never forgotten by the sweep: its bucket stays empty.
        TokenBuckets buckets({1, 2}, 1000);
        auto now = TokenBuckets::Clock::now();
        int refused = 0;
        for (int i = 0; i < 400; ++i) {
            now += 100ms; // 10 a second against 1 a second
            if (buckets.take("busy", now).count() > 0)
                ++refused;
            if (i % 50 == 0)
                buckets.sweep(now);
        }
        QVERIFY2(refused >= 350, qPrintable(QString::number(refused)));
    }

    void unlimited()
    {
        TokenBuckets buckets({0, 1}, 10);
        for (int i = 0; i < 1000; ++i)
            QCOMPARE(buckets.take("a").count(), 0);
        QCOMPARE(buckets.size(), 0);
    }

    void addressPlaces()
    {
        auto places = AddressPlaces::create(2);
        auto first = places->take("a");
        auto second = places->take("a");
        QVERIFY(first && second);
        QVERIFY(!places->take("a"));
        QVERIFY(places->take("a", true)); // a redial past the cap, given back at once
        QVERIFY(places->take("b"));
        first.reset();
        auto third = places->take("a");
        QVERIFY(third);
        second.reset();
        third.reset();
        QCOMPARE(places->addresses(), 0);
    }

    void operatorDoor()
    {
        const OperatorDoor door = OperatorDoor::withPassword("s3cret:with colon");
        const auto basic = [](QByteArray credentials) { return "Basic " + credentials.toBase64(); };
        QVERIFY(door.admits(basic("admin:s3cret:with colon")));
        QVERIFY(door.admits("basic " + QByteArray("admin:s3cret:with colon").toBase64()));
        QVERIFY(!door.admits(basic("admin:s3cret")));
        QVERIFY(!door.admits(basic("root:s3cret:with colon")));
        QVERIFY(!door.admits(basic("admin:")));
        QVERIFY(!door.admits({}));
        QVERIFY(!door.admits("Bearer abc"));
        QVERIFY(!door.admits("Basic !!!"));
    }

    void operatorDoorFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("password"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("hunter2\n");
        file.close();
        QString error;
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                            QFileDevice::ReadOther);
        QVERIFY(!OperatorDoor::fromFile(path, &error));
        QVERIFY2(error.contains(QLatin1String("every user")), qPrintable(error));
        QVERIFY(!error.contains(QLatin1String("hunter2")));
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        const auto door = OperatorDoor::fromFile(path, &error);
        QVERIFY2(door, qPrintable(error));
        QVERIFY(door->admits("Basic " + QByteArray("admin:hunter2").toBase64()));
        QVERIFY(!OperatorDoor::fromFile(dir.filePath(QStringLiteral("missing")), &error));
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write("\n");
        file.close();
        QVERIFY(!OperatorDoor::fromFile(path, &error));
        QVERIFY(error.contains(QLatin1String("empty")));
    }
};

QTEST_GUILESS_MAIN(TestAccess)
#include "tst_access.moc"
