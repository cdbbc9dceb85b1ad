#include "serverconfig.h"

#include <QTest>

// The daemon's --rendezvous-* flags: the spec's defaults, parsed limits, refusals in one line.
class TestRendezvousFlags : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void specDefaults();
    void limitsParsed();
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

void TestRendezvousFlags::specDefaults()
{
    const RendezvousPoint::Options options = parse({}).config.rendezvous;
    QCOMPARE(options.defaultTtl, std::chrono::seconds(2 * 3600));
    QCOMPARE(options.minTtl, std::chrono::seconds(2 * 3600));
    QCOMPARE(options.maxTtl, std::chrono::seconds(72 * 3600));
    QCOMPARE(options.maxNamespaceBytes, 255);
    QCOMPARE(options.limits.maxPerPeer, 1000);
    QCOMPARE(options.limits.maxDiscoverLimit, 1000);
    QCOMPARE(options.limits.maxRegistrations, 10000);
    QCOMPARE(options.limits.maxPerNamespace, 5000);
}

void TestRendezvousFlags::limitsParsed()
{
    const CommandLine c =
        parse({"--rendezvous-max-registrations", "50", "--rendezvous-max-per-peer", "3",
               "--rendezvous-max-per-namespace", "20", "--rendezvous-min-ttl", "2m",
               "--rendezvous-max-ttl", "96h"});
    QCOMPARE(c.action, CommandLine::Action::Run);
    QCOMPARE(c.config.rendezvous.limits.maxRegistrations, 50);
    QCOMPARE(c.config.rendezvous.limits.maxPerPeer, 3);
    QCOMPARE(c.config.rendezvous.limits.maxPerNamespace, 20);
    QCOMPARE(c.config.rendezvous.minTtl, std::chrono::seconds(120));
    QCOMPARE(c.config.rendezvous.maxTtl, std::chrono::seconds(96 * 3600));
}

void TestRendezvousFlags::refused_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("reason");
    QTest::newRow("zero registrations") << QStringList{"--rendezvous-max-registrations", "0"}
                                        << "invalid --rendezvous-max-registrations";
    QTest::newRow("per peer not a number")
        << QStringList{"--rendezvous-max-per-peer", "many"} << "invalid --rendezvous-max-per-peer";
    QTest::newRow("minimum above the default TTL")
        << QStringList{"--rendezvous-min-ttl", "3h"} << "invalid --rendezvous-min-ttl";
    QTest::newRow("maximum below the spec's 72 h")
        << QStringList{"--rendezvous-max-ttl", "24h"} << "invalid --rendezvous-max-ttl";
    QTest::newRow("fractional seconds")
        << QStringList{"--rendezvous-min-ttl", "1500ms"} << "invalid --rendezvous-min-ttl";
}

void TestRendezvousFlags::refused()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, reason);
    const CommandLine c = parse(arguments);
    QCOMPARE(c.action, CommandLine::Action::FailAndExit);
    QVERIFY2(c.text.contains(reason), qPrintable(c.text));
    QVERIFY(!c.text.contains(QLatin1Char('\n')));
}

QTEST_GUILESS_MAIN(TestRendezvousFlags)
#include "tst_rendezvousflags.moc"
