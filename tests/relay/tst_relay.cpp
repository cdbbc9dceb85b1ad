// GET /relay and GET /api/capabilities (PROTOCOL.md): 404 and relay:false with no relay given,
// exactly the relay given when there is one (flags or file), and a one-line refusal to start
// when what is given does not parse: never `200 {}`.
#include "httpclient.h"
#include "relay/relayinfo.h"
#include "serverprocess.h"

#include <QProcess>
#include <QTemporaryFile>
#include <QTest>

namespace {

// An Ed25519 peer ID (identity multihash of the key's protobuf) and a sha2-256 one.
const QString ed25519Id = QStringLiteral("12D3KooW9pP4Seg3kZYhySpuVjn1RPdQBsUFZKiFxGMGQN5MeL6A");
const QString sha256Id = QStringLiteral("QmRQ353oFNqt8zfZ9X1HgRUszwv9RkEEwmMZZkbkYEsybn");

const QByteArray capabilitiesWithout =
    "{\"bridge\":false,\"credits\":false,\"encryption\":false,\"registration\":false,"
    "\"relay\":false,\"templates\":false}\n";

} // namespace

class TestRelay : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void peerIds_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("valid");
        QTest::newRow("ed25519") << ed25519Id << true;
        QTest::newRow("sha2-256") << sha256Id << true;
        QTest::newRow("short") << QStringLiteral("12D3KooWBad") << false;
        QTest::newRow("not base58") << QStringLiteral("12D3KooW0OIl") << false;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("one character off the length") << ed25519Id.chopped(1) << false;
    }
    void peerIds()
    {
        QFETCH(QString, text);
        QFETCH(bool, valid);
        QCOMPARE(Libp2pText::isPeerId(text), valid);
    }

    void multiaddrs_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("valid");
        QTest::newRow("ip4 tcp") << QStringLiteral("/ip4/203.0.113.7/tcp/4001") << true;
        QTest::newRow("ip6 quic with id")
            << "/ip6/2001:db8::1/udp/4001/quic-v1/p2p/" + ed25519Id << true;
        QTest::newRow("dns4 wss") << QStringLiteral("/dns4/relay.example.org/tcp/443/wss") << true;
        QTest::newRow("no slash") << QStringLiteral("ip4/1.2.3.4/tcp/1") << false;
        QTest::newRow("bad ip4") << QStringLiteral("/ip4/1.2.3/tcp/1") << false;
        QTest::newRow("ip6 as ip4") << QStringLiteral("/ip4/::1/tcp/1") << false;
        QTest::newRow("port too big") << QStringLiteral("/ip4/1.2.3.4/tcp/65536") << false;
        QTest::newRow("missing port") << QStringLiteral("/ip4/1.2.3.4/tcp") << false;
        QTest::newRow("unknown protocol") << QStringLiteral("/ip4/1.2.3.4/sctp/1") << false;
        QTest::newRow("bad peer id") << QStringLiteral("/ip4/1.2.3.4/tcp/1/p2p/nope") << false;
    }
    void multiaddrs()
    {
        QFETCH(QString, text);
        QFETCH(bool, valid);
        QCOMPARE(Libp2pText::multiaddrProblem(text).isEmpty(), valid);
    }

    void noRelayByDefault()
    {
        ServerProcess server;
        QVERIFY(server.start());
        HttpClient http(server.port());
        const auto relay = http.get("/relay");
        QCOMPARE(relay.status, 404);
        QCOMPARE(relay.body, QByteArray("404 page not found\n"));
        const auto capabilities = http.get("/api/capabilities");
        QCOMPARE(capabilities.status, 200);
        QCOMPARE(capabilities.header("Content-Type"),
                 QByteArray("application/json; charset=utf-8"));
        QCOMPARE(capabilities.body, capabilitiesWithout);
        QCOMPARE(http.post("/relay", "{}").status, 405);
    }

    void relayFromFlags()
    {
        ServerProcess server({"--relay-peer-id", ed25519Id, "--relay-addr",
                              "/ip4/203.0.113.7/tcp/4001", "--relay-addr",
                              "/ip4/203.0.113.7/udp/4001/quic-v1"});
        QVERIFY(server.start());
        HttpClient http(server.port());
        const auto relay = http.get("/relay");
        QCOMPARE(relay.status, 200);
        QCOMPARE(relay.header("Content-Type"), QByteArray("application/json; charset=utf-8"));
        QCOMPARE(relay.body,
                 "{\"peer_id\":\"" + ed25519Id.toUtf8() +
                     "\",\"addrs\":[\"/ip4/203.0.113.7/tcp/4001\",\"/ip4/203.0.113.7/udp/4001/"
                     "quic-v1\"],\"cleanup_delay_sec\":0,\"poll_deadline_sec\":0,"
                     "\"connect_timeout_sec\":0,\"refresh_interval_sec\":0,"
                     "\"recovery_grace_sec\":0}\n");
        QCOMPARE(http.get("/api/capabilities").body,
                 QByteArray(capabilitiesWithout).replace("\"relay\":false", "\"relay\":true"));
    }

    void relayFromFile()
    {
        QTemporaryFile file;
        QVERIFY(file.open());
        file.write("{\"peer_id\":\"" + sha256Id.toUtf8() +
                   "\",\"addrs\":[\"/dns4/relay.example.org/tcp/4001\"],"
                   "\"cleanup_delay_sec\":3,\"poll_deadline_sec\":10,\"connect_timeout_sec\":5,"
                   "\"refresh_interval_sec\":90,\"recovery_grace_sec\":5}");
        file.close();
        ServerProcess server({"--relay-file", file.fileName()});
        QVERIFY(server.start());
        QCOMPARE(HttpClient(server.port()).get("/relay").body,
                 "{\"peer_id\":\"" + sha256Id.toUtf8() +
                     "\",\"addrs\":[\"/dns4/relay.example.org/tcp/4001\"],\"cleanup_delay_sec\":3,"
                     "\"poll_deadline_sec\":10,\"connect_timeout_sec\":5,"
                     "\"refresh_interval_sec\":90,\"recovery_grace_sec\":5}\n");
    }

    void badRelayRefusesToStart_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("error");
        QTest::newRow("bad peer id")
            << QStringList{"--relay-peer-id", "12D3KooWBad", "--relay-addr", "/ip4/1.2.3.4/tcp/1"}
            << "is not a libp2p peer ID";
        QTest::newRow("bad address")
            << QStringList{"--relay-peer-id", ed25519Id, "--relay-addr", "/ip4/1.2.3.4/tcp/x"}
            << "bad value for /tcp";
        QTest::newRow("no address")
            << QStringList{"--relay-peer-id", ed25519Id} << "the relay has no address";
        QTest::newRow("address without id")
            << QStringList{"--relay-addr", "/ip4/1.2.3.4/tcp/1"} << "is not a libp2p peer ID";
        QTest::newRow("missing file") << QStringList{"--relay-file", "/nonexistent/relay.json"}
                                      << "cannot read /nonexistent/relay.json";
    }
    void badRelayRefusesToStart()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, error);
        QProcess process;
        process.start(ServerProcess::binary(), QStringList{"-addr", "127.0.0.1:0"} + arguments);
        QVERIFY(process.waitForFinished(10000));
        QCOMPARE(process.exitCode(), 2);
        const QString output = QString::fromUtf8(process.readAllStandardError());
        QCOMPARE(output.count(QLatin1Char('\n')), 1); // one line
        QVERIFY2(output.contains(error), qPrintable(output));
    }
};

QTEST_GUILESS_MAIN(TestRelay)
#include "tst_relay.moc"
