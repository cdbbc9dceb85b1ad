#include "serverconfig.h"

#include <QTest>

// The daemon's --libp2p-* flags: parsed into the configuration, refused with one line.
class TestLibp2pFlags : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void offByDefault();
    void listenKeyAndAnnounce();
    void relayDefaultsAndFlags();
    void refused_data();
    void refused();
};

namespace {

CommandLine parse(QStringList arguments)
{
    arguments.prepend(QStringLiteral("goop-rendezvous"));
    return CommandLine::parse(arguments, {});
}

} // namespace

void TestLibp2pFlags::offByDefault()
{
    const CommandLine c = parse({});
    QCOMPARE(c.action, CommandLine::Action::Run);
    QVERIFY(c.config.libp2pListen.empty());
    QVERIFY(!c.config.relay);
}

void TestLibp2pFlags::listenKeyAndAnnounce()
{
    const CommandLine c =
        parse({"--libp2p-listen", "/ip4/0.0.0.0/tcp/4001", "--libp2p-listen", "/ip6/::/tcp/4001",
               "--libp2p-key", "/var/lib/goop/key", "--libp2p-announce",
               "/dns4/relay.example.org/tcp/4001", "--libp2p-max-connections", "10"});
    QCOMPARE(c.action, CommandLine::Action::Run);
    QCOMPARE(c.config.libp2pListen.size(), size_t(2));
    QCOMPARE(c.config.libp2pListen[1].toText(), QStringLiteral("/ip6/::/tcp/4001"));
    QCOMPARE(c.config.libp2pKeyFile, QStringLiteral("/var/lib/goop/key"));
    QCOMPARE(c.config.libp2pAnnounce.size(), size_t(1));
    QCOMPARE(c.config.libp2pMaxConnections, 10);
    QCOMPARE(parse({}).config.libp2pMaxConnections, 1024);

    // The systemd unit names the key file in the environment: one flag turns the host on, and
    // without it the variable changes nothing.
    const QHash<QString, QString> unit{
        {QStringLiteral("GOOP_LIBP2P_KEY"), QStringLiteral("/var/lib/goop-rendezvous/libp2p.key")}};
    const CommandLine fromUnit =
        CommandLine::parse({"goop-rendezvous", "--libp2p-listen", "/ip4/0.0.0.0/tcp/4001"}, unit);
    QCOMPARE(fromUnit.action, CommandLine::Action::Run);
    QCOMPARE(fromUnit.config.libp2pKeyFile, QStringLiteral("/var/lib/goop-rendezvous/libp2p.key"));
    const CommandLine quiet = CommandLine::parse({"goop-rendezvous"}, unit);
    QCOMPARE(quiet.action, CommandLine::Action::Run);
    QVERIFY(quiet.config.libp2pListen.empty());
    QCOMPARE(CommandLine::parse({"goop-rendezvous", "--libp2p-listen", "/ip4/0.0.0.0/tcp/4001",
                                 "--libp2p-key", "/elsewhere"},
                                unit)
                 .config.libp2pKeyFile,
             QStringLiteral("/elsewhere"));
}

void TestLibp2pFlags::relayDefaultsAndFlags()
{
    // On with the host, with at least the go-libp2p relay's generosity of today's Goop² server.
    const ServerConfig defaults = parse({}).config;
    QVERIFY(defaults.libp2pRelay);
    QCOMPARE(defaults.relayLimits.circuitDuration, std::chrono::seconds(1800));
    QCOMPARE(defaults.relayLimits.circuitBytes, quint64(16 * 1024 * 1024));
    QCOMPARE(defaults.relayLimits.reservationTtl, std::chrono::seconds(3600));
    QCOMPARE(defaults.relayLimits.maxReservations, 128);

    const CommandLine c =
        parse({"--relay-max-reservations", "5", "--relay-max-reservations-per-peer", "2",
               "--relay-max-reservations-per-ip", "3", "--relay-reservation-ttl", "90s",
               "--relay-max-circuits", "7", "--relay-max-circuits-per-peer", "1",
               "--relay-circuit-duration", "0", "--relay-circuit-bytes", "65536"});
    QCOMPARE(c.action, CommandLine::Action::Run);
    const RelayLimits &limits = c.config.relayLimits;
    QCOMPARE(limits.maxReservations, 5);
    QCOMPARE(limits.maxReservationsPerPeer, 2);
    QCOMPARE(limits.maxReservationsPerIp, 3);
    QCOMPARE(limits.reservationTtl, std::chrono::seconds(90));
    QCOMPARE(limits.maxCircuits, 7);
    QCOMPARE(limits.maxCircuitsPerPeer, 1);
    QCOMPARE(limits.circuitDuration, std::chrono::seconds(0));
    QCOMPARE(limits.circuitBytes, quint64(65536));
    QCOMPARE(parse({"--relay-circuit-duration", "2m"}).config.relayLimits.circuitDuration,
             std::chrono::seconds(120));
    QVERIFY(!parse({"--relay-disable"}).config.libp2pRelay);
}

void TestLibp2pFlags::refused_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("reason");
    QTest::newRow("no key") << QStringList{"--libp2p-listen", "/ip4/0.0.0.0/tcp/1"}
                            << "needs --libp2p-key";
    QTest::newRow("bad multiaddr")
        << QStringList{"--libp2p-listen", "/ip4/nope/tcp/1", "--libp2p-key", "k"}
        << "invalid multiaddress";
    QTest::newRow("not tcp") << QStringList{"--libp2p-listen", "/dns4/x/tcp/1", "--libp2p-key", "k"}
                             << "expected /ip4/HOST/tcp/PORT";
    QTest::newRow("announce alone")
        << QStringList{"--libp2p-announce", "/ip4/1.2.3.4/tcp/1"} << "need --libp2p-listen";
    QTest::newRow("zero connections") << QStringList{"--libp2p-listen",
                                                     "/ip4/0.0.0.0/tcp/1",
                                                     "--libp2p-key",
                                                     "k",
                                                     "--libp2p-max-connections",
                                                     "0"}
                                      << "invalid --libp2p-max-connections";
    QTest::newRow("no reservations")
        << QStringList{"--relay-max-reservations", "0"} << "invalid --relay-max-reservations";
    QTest::newRow("ttl of zero") << QStringList{"--relay-reservation-ttl", "0"}
                                 << "invalid --relay-reservation-ttl";
    QTest::newRow("part of a second")
        << QStringList{"--relay-circuit-duration", "1500ms"} << "invalid --relay-circuit-duration";
    QTest::newRow("bytes not a number")
        << QStringList{"--relay-circuit-bytes", "16M"} << "invalid --relay-circuit-bytes";
}

void TestLibp2pFlags::refused()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, reason);
    const CommandLine c = parse(arguments);
    QCOMPARE(c.action, CommandLine::Action::FailAndExit);
    QVERIFY2(c.text.contains(reason), qPrintable(c.text));
    QVERIFY(!c.text.contains(QLatin1Char('\n')));
}

QTEST_GUILESS_MAIN(TestLibp2pFlags)
#include "tst_libp2pflags.moc"
