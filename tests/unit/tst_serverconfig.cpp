#include "goopversion.h"
#include "redisurl.h"
#include "serverconfig.h"

#include <QTest>

namespace {

CommandLine parse(QStringList arguments, QHash<QString, QString> environment = {})
{
    arguments.prepend(QStringLiteral("goop-rendezvous"));
    return CommandLine::parse(arguments, environment);
}

} // namespace

class TestServerConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaults()
    {
        const CommandLine c = parse({});
        QCOMPARE(c.action, CommandLine::Action::Run);
        QCOMPARE(c.config.host, QStringLiteral("localhost"));
        QCOMPARE(c.config.port, quint16(8787));
        QCOMPARE(c.config.peerTtl, std::chrono::milliseconds(30000));
        QCOMPARE(c.config.heartbeat, std::chrono::milliseconds(25000));
        QCOMPARE(c.config.batchWindow, std::chrono::milliseconds(35));
        QCOMPARE(parse({"--batch-window", "0"}).config.batchWindow, std::chrono::milliseconds(0));
    }

    void addressForms_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::newRow("go style") << QStringList{"-addr", "0.0.0.0:9000"} << "0.0.0.0" << 9000;
        QTest::newRow("double dash") << QStringList{"--addr", "127.0.0.1:1"} << "127.0.0.1" << 1;
        QTest::newRow("equals") << QStringList{"--addr=localhost:2"} << "localhost" << 2;
        QTest::newRow("no host") << QStringList{"-addr", ":8787"} << "" << 8787;
        QTest::newRow("ipv6") << QStringList{"-addr", "[::1]:8080"} << "::1" << 8080;
        QTest::newRow("rendezvous ignored")
            << QStringList{"-rendezvous", "-addr", "h:3"} << "h" << 3;
    }
    void addressForms()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, host);
        QFETCH(int, port);
        const CommandLine c = parse(arguments);
        QCOMPARE(c.action, CommandLine::Action::Run);
        QCOMPARE(c.config.host, host);
        QCOMPARE(c.config.port, quint16(port));
    }

    void badInput_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("no port") << QStringList{"-addr", "localhost"}
                                 << "invalid listen address \"localhost\"";
        QTest::newRow("port too big") << QStringList{"-addr", ":70000"} << "invalid listen address";
        QTest::newRow("port text") << QStringList{"-addr", "h:http"} << "invalid listen address";
        QTest::newRow("bare ipv6") << QStringList{"-addr", "::1:80"} << "invalid listen address";
        QTest::newRow("unknown flag") << QStringList{"--bogus"} << "Unknown option 'bogus'";
        QTest::newRow("bad duration")
            << QStringList{"--peer-ttl", "soon"} << "invalid --peer-ttl \"soon\"";
        QTest::newRow("zero duration") << QStringList{"--heartbeat", "0s"} << "invalid --heartbeat";
        QTest::newRow("batch window too long")
            << QStringList{"--batch-window", "2s"} << "invalid --batch-window \"2s\"";
        QTest::newRow("bad level")
            << QStringList{"--log-level", "loud"} << "invalid log level \"loud\"";
        QTest::newRow("positional") << QStringList{"extra"} << "unexpected argument \"extra\"";
        QTest::newRow("redis scheme")
            << QStringList{"--redis", "http://127.0.0.1:6379"} << "invalid Redis URL";
        QTest::newRow("redis database")
            << QStringList{"--redis", "redis://127.0.0.1/zero"} << "must be a database number";
        QTest::newRow("redis port")
            << QStringList{"--redis", "redis://h:99999"} << "invalid Redis URL";
    }
    void badInput()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const CommandLine c = parse(arguments);
        QCOMPARE(c.action, CommandLine::Action::FailAndExit);
        QVERIFY2(c.text.contains(message), qPrintable(c.text));
        QVERIFY(!c.text.contains(QLatin1Char('\n')));
    }

    void environment()
    {
        const QHash<QString, QString> env{{"GOOP_RENDEZVOUS_ADDR", "10.0.0.1:1234"},
                                          {"GOOP_LOG_LEVEL", "warn"}};
        CommandLine c = parse({}, env);
        QCOMPARE(c.config.host, QStringLiteral("10.0.0.1"));
        QCOMPARE(c.config.port, quint16(1234));
        QCOMPARE(c.config.logLevel, Logging::Level::Warning);
        c = parse({"-addr", ":1", "--log-level", "debug"}, env); // flags win
        QCOMPARE(c.config.port, quint16(1));
        QCOMPARE(c.config.logLevel, Logging::Level::Debug);
        QCOMPARE(parse({}, {{"GOOP_LOG_LEVEL", "nope"}}).action, CommandLine::Action::FailAndExit);
    }

    void redisUrl()
    {
        QVERIFY(parse({}).config.redisUrl.isEmpty()); // no cluster unless asked for
        const QString url = QStringLiteral("redis://:secret@10.0.0.2:6380/3");
        QCOMPARE(parse({"--redis", url}).config.redisUrl, url);
        QCOMPARE(parse({}, {{"GOOP_REDIS_URL", url}}).config.redisUrl, url);

        QString error;
        const auto parsed = RedisUrl::parse(url, &error);
        QVERIFY2(parsed, qPrintable(error));
        QCOMPARE(parsed->host, QStringLiteral("10.0.0.2"));
        QCOMPARE(parsed->port, quint16(6380));
        QCOMPARE(parsed->database, 3);
        QCOMPARE(parsed->password, QByteArray("secret"));
        QVERIFY(!parsed->displayText().contains(QLatin1String("secret")));
    }

    void durations()
    {
        QCOMPARE(parseDuration("30s"), std::optional(std::chrono::milliseconds(30000)));
        QCOMPARE(parseDuration("250ms"), std::optional(std::chrono::milliseconds(250)));
        QCOMPARE(parseDuration("1.5s"), std::optional(std::chrono::milliseconds(1500)));
        QCOMPARE(parseDuration("2m"), std::optional(std::chrono::milliseconds(120000)));
        QCOMPARE(parseDuration("5"), std::optional(std::chrono::milliseconds(5000)));
        QCOMPARE(parseDuration("-1s"), std::nullopt);
    }

    void helpAndVersion()
    {
        for (const char *flag : {"-h", "--help"}) {
            const CommandLine c = parse({QString::fromLatin1(flag)});
            QCOMPARE(c.action, CommandLine::Action::PrintAndExit);
            QVERIFY(c.text.contains("-addr"));
            QVERIFY(c.text.contains("GOOP_RENDEZVOUS_ADDR"));
        }
        const CommandLine v = parse({"--version"});
        QCOMPARE(v.action, CommandLine::Action::PrintAndExit);
        QVERIFY(v.text.startsWith("goop-rendezvous " GOOP_VERSION));
    }
};

QTEST_APPLESS_MAIN(TestServerConfig)
#include "tst_serverconfig.moc"
