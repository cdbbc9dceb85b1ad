// Starting and stopping the real binary: signals, bad command lines, the environment.
#include "httpclient.h"
#include "serverprocess.h"
#include "sseclient.h"

#include <QDir>
#include <QFile>
#include <QMap>
#include <QProcess>
#include <QTcpServer>
#include <QTest>

#include <csignal>

namespace {

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run runBinary(const QStringList &arguments,
              const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment())
{
    QProcess process;
    process.setProcessEnvironment(environment);
    process.start(ServerProcess::binary(), arguments);
    if (!process.waitForFinished(10000)) {
        process.kill();
        process.waitForFinished();
    }
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            process.readAllStandardOutput(), process.readAllStandardError()};
}

} // namespace

class TestLifecycle : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sigtermClosesStreamsAndExitsZero_data()
    {
        QTest::addColumn<int>("signalNumber");
        QTest::newRow("SIGTERM") << int(SIGTERM);
        QTest::newRow("SIGINT") << int(SIGINT);
    }
    void sigtermClosesStreamsAndExitsZero()
    {
        QFETCH(int, signalNumber);
        ServerProcess server;
        QVERIFY(server.start());
        QList<SseClient *> streams;
        for (int i = 0; i < 20; ++i) {
            streams.append(new SseClient(server.port()));
            QVERIFY(streams.last()->open());
        }
        HttpClient idle(server.port());
        QCOMPARE(idle.get("/healthz").status, 200);

        QElapsedTimer clock;
        clock.start();
        ::kill(static_cast<pid_t>(server.pid()), signalNumber);
        for (SseClient *stream : streams)
            QVERIFY(stream->waitForClose(3000));
        QVERIFY(server.terminate(3000) >= 0);
        QVERIFY2(clock.elapsed() < 2000, qPrintable(QString::number(clock.elapsed())));
        QCOMPARE(server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.exitCode(), 0);
        QVERIFY(server.log().contains("stopping on signal"));
        qDeleteAll(streams);
    }

    void portInUse()
    {
        QTcpServer occupier;
        QVERIFY(occupier.listen(QHostAddress::LocalHost));
        const Run run =
            runBinary({"-addr", QStringLiteral("127.0.0.1:%1").arg(occupier.serverPort())});
        QCOMPARE(run.exitCode, 1);
        QCOMPARE(run.err.count('\n'), 1);
        QVERIFY2(run.err.startsWith("goop-rendezvous: cannot listen on 127.0.0.1:"),
                 run.err.constData());
        QVERIFY2(run.err.contains("in use"), run.err.constData());
    }

    void badCommandLines_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("bad address") << QStringList{"-addr", "nonsense"}
                                     << QByteArray("invalid listen address \"nonsense\"");
        QTest::newRow("unknown flag")
            << QStringList{"--frobnicate"} << QByteArray("Unknown option 'frobnicate'");
        QTest::newRow("bad duration")
            << QStringList{"--peer-ttl", "forever"} << QByteArray("invalid --peer-ttl");
    }
    void badCommandLines()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QByteArray, message);
        const Run run = runBinary(arguments);
        QCOMPARE(run.exitCode, 2);
        QCOMPARE(run.err.count('\n'), 1);
        QVERIFY2(run.err.contains(message), run.err.constData());
    }

    void unknownHost()
    {
        const Run run = runBinary({"-addr", "no-such-host.invalid:8787"});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("unknown host"), run.err.constData());
    }

    void helpAndVersion()
    {
        for (const char *flag : {"-h", "--help"}) {
            const Run help = runBinary({QString::fromLatin1(flag)});
            QCOMPARE(help.exitCode, 0);
            QVERIFY(help.out.contains("-addr"));
            QVERIFY(help.out.contains("GOOP_LOG_LEVEL"));
        }
        const Run version = runBinary({"--version"});
        QCOMPARE(version.exitCode, 0);
        QVERIFY(version.out.startsWith("goop-rendezvous "));
    }

    void environmentAddressAndFlagPrecedence()
    {
        QTcpServer probe; // find a free port
        QVERIFY(probe.listen(QHostAddress::LocalHost));
        const quint16 port = probe.serverPort();
        probe.close();
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert("GOOP_RENDEZVOUS_ADDR", QStringLiteral("127.0.0.1:%1").arg(port));
        QProcess process;
        process.setProcessEnvironment(environment);
        process.start(ServerProcess::binary(), QStringList{});
        QVERIFY(process.waitForStarted());
        QByteArray err;
        QTRY_VERIFY_WITH_TIMEOUT((err += process.readAllStandardError()).contains("listening on"),
                                 5000);
        QVERIFY2(
            err.contains(QStringLiteral("listening on http://127.0.0.1:%1").arg(port).toUtf8()),
            err.constData());
        QCOMPARE(HttpClient(port).get("/healthz").body, QByteArray("ok"));
        process.terminate();
        QVERIFY(process.waitForFinished(3000));
        QCOMPARE(process.exitCode(), 0);
    }

#ifdef Q_OS_LINUX
    // --threads N: N HTTP threads and N event-stream writers, named so in top -H and perf; the
    // start-up line says how the writers send.
    void threadsAreNamedAndCounted()
    {
        ServerProcess server({"--threads", "3"});
        QVERIFY(server.start());
        QVERIFY(server.log().contains("(3 HTTP threads, up to "));
        QVERIFY(server.log().contains("; event streams sent with "));
        QMap<QString, int> names;
        QDir tasks(QStringLiteral("/proc/%1/task").arg(server.pid()));
        for (const QString &task : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            QFile comm(tasks.filePath(task + QStringLiteral("/comm")));
            QVERIFY(comm.open(QIODevice::ReadOnly));
            ++names[QString::fromUtf8(comm.readAll().trimmed())];
        }
        QCOMPARE(names.value(QStringLiteral("http")), 3);
        QCOMPARE(names.value(QStringLiteral("sse-writer")), 3);
    }
#endif

    void logLevelFilters()
    {
        QProcessEnvironment quiet = QProcessEnvironment::systemEnvironment();
        quiet.insert("GOOP_LOG_LEVEL", "warn");
        ServerProcess server({"--log-level", "debug"}, quiet); // the flag wins over the variable
        QVERIFY(server.start());
        HttpClient(server.port()).get("/healthz");
        QTRY_VERIFY_WITH_TIMEOUT(server.log().contains("debug goop.server.http: GET /healthz 200"),
                                 5000);

        ServerProcess warnOnly({}, quiet);
        QVERIFY(!warnOnly.start(2000)); // its "listening" line is info: filtered out
        HttpClient(warnOnly.port()).get("/healthz");
        QVERIFY(!warnOnly.log().contains(" info "));

        const Run bad = runBinary({}, [] {
            QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
            e.insert("GOOP_LOG_LEVEL", "chatty");
            return e;
        }());
        QCOMPARE(bad.exitCode, 2);
        QVERIFY(bad.err.contains("invalid log level \"chatty\""));
    }

    void logLinesUnderJournald()
    {
        QProcessEnvironment journal = QProcessEnvironment::systemEnvironment();
        journal.insert("JOURNAL_STREAM", "8:12345");
        ServerProcess server({}, journal);
        QVERIFY(server.start());
        QVERIFY2(server.log().startsWith("<6>goop.server.app: listening on"),
                 server.log().constData());
    }
};

QTEST_GUILESS_MAIN(TestLifecycle)
#include "tst_lifecycle.moc"
