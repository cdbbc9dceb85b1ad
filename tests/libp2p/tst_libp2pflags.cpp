#include "serverconfig.h"

#include <QTest>

// The daemon's --libp2p-* flags: parsed into the configuration, refused with one line.
class TestLibp2pFlags : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void offByDefault();
    void listenKeyAndAnnounce();
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
