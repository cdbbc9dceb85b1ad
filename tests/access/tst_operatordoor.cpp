// The operators' door against the real server: which paths it guards with and without
// --private, right, wrong and missing credentials on each, the lockout after failed logins, and
// that the password shows nowhere (log, command line, --help).
#include "httpclient.h"
#include "serverprocess.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

namespace {

const QByteArray password = "correct horse battery staple";

QByteArray basic(const QByteArray &user, const QByteArray &secret)
{
    return "Authorization: Basic " + (user + ':' + secret).toBase64() + "\r\n";
}

} // namespace

class TestOperatorDoor : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_passwordFile;

    std::unique_ptr<ServerProcess> start(const QStringList &extra)
    {
        auto server = std::make_unique<ServerProcess>(
            QStringList{"--admin-password-file", m_passwordFile} + extra);
        return server->start() ? std::move(server) : nullptr;
    }

    // The status of GET `path` with `headers`, from its own client address.
    static int status(quint16 port, const QByteArray &path, const QByteArray &headers,
                      HttpClient::Response *response = nullptr)
    {
        HttpClient http(port, QHostAddress(QStringLiteral("127.0.0.20")));
        const auto answer = http.request("GET", path, {}, headers);
        if (response)
            *response = answer;
        return answer.status;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_passwordFile = m_dir.filePath(QStringLiteral("admin-password"));
        QFile file(m_passwordFile);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(password + '\n');
        file.close();
        QVERIFY(file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    }

    void guardedPaths_data()
    {
        QTest::addColumn<bool>("privatePages");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<bool>("guarded");
        for (const bool privatePages : {false, true}) {
            const char *mode = privatePages ? "private" : "public";
            const auto row = [&](const char *path, bool guarded) {
                QTest::addRow("%s %s", mode, path) << privatePages << QByteArray(path) << guarded;
            };
            row("/logs.json", true);
            row("/metrics", true);
            row("/peers.json", privatePages);
            row("/", privatePages);
            row("/healthz", false);
            row("/relay", false);
            row("/api/capabilities", false);
        }
    }

    void guardedPaths()
    {
        QFETCH(bool, privatePages);
        QFETCH(QByteArray, path);
        QFETCH(bool, guarded);
        auto server = start(privatePages ? QStringList{"--private"} : QStringList{});
        QVERIFY(server);
        const quint16 port = server->port();
        HttpClient::Response missing;
        const int open = path == "/relay" ? 404 : 200; // no relay configured: 404 to everyone
        QCOMPARE(status(port, path, {}, &missing), guarded ? 401 : open);
        if (guarded) {
            QCOMPARE(missing.header("WWW-Authenticate"),
                     QByteArray("Basic realm=\"goop-rendezvous\""));
            QCOMPARE(missing.body, QByteArray("unauthorized\n"));
        }
        QCOMPARE(status(port, path, basic("admin", password)), open);
        QCOMPARE(status(port, path, basic("admin", "wrong")), guarded ? 401 : open);
        QCOMPARE(status(port, path, basic("root", password)), guarded ? 401 : open);
        QCOMPARE(status(port, path, "Authorization: Bearer " + password + "\r\n"),
                 guarded ? 401 : open);
    }

    void theProtocolStaysOpen()
    {
        auto server = start({"--private"});
        QVERIFY(server);
        HttpClient http(server->port());
        QCOMPARE(http.post("/publish", R"({"type":"online","peerId":"a"})").status, 204);
        QCOMPARE(http.request("HEAD", "/healthz").status, 200);
        // The event stream opens without credentials (the peers' own endpoint).
        HttpClient stream(server->port());
        const auto head = stream.raw("GET /events HTTP/1.1\r\nHost: x\r\n\r\n", 2000);
        QCOMPARE(head.status, 200);
        // And the dashboard's assets are as private as the page.
        QCOMPARE(status(server->port(), "/assets/dashboard.js", {}), 401);
        QCOMPARE(status(server->port(), "/assets/dashboard.js", basic("admin", password)), 200);
    }

    void failedLoginsLockTheClientOut()
    {
        auto server = start({});
        QVERIFY(server);
        for (int i = 0; i < 10; ++i)
            QCOMPARE(status(server->port(), "/metrics", basic("admin", "guess")), 401);
        HttpClient::Response locked;
        QCOMPARE(status(server->port(), "/metrics", basic("admin", "guess"), &locked), 429);
        QVERIFY(locked.header("Retry-After").toInt() >= 1);
        // Locked out, the right password gets no answer either (so guessing on tells nothing).
        QCOMPARE(status(server->port(), "/metrics", basic("admin", password)), 429);
        // Another client is not locked out.
        HttpClient other(server->port(), QHostAddress(QStringLiteral("127.0.0.21")));
        QCOMPARE(other.request("GET", "/metrics", {}, basic("admin", password)).status, 200);
        HttpClient metrics(server->port(), QHostAddress(QStringLiteral("127.0.0.21")));
        const QByteArray text =
            metrics.request("GET", "/metrics", {}, basic("admin", password)).body;
        QVERIFY(text.contains("goop_limited_total{limit=\"auth_failures\"} 12"));
        QVERIFY(text.contains("goop_http_requests_total{route=\"/metrics\",status=\"401\"} 10"));
    }

    void thePasswordShowsNowhere()
    {
        auto server = start({"--private", "--log-level", "debug"});
        QVERIFY(server);
        for (int i = 0; i < 3; ++i)
            status(server->port(), "/logs.json", basic("admin", password));
        status(server->port(), "/logs.json", basic(password, password));
        QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(server->pid()));
        QVERIFY(cmdline.open(QIODevice::ReadOnly));
        QVERIFY(!cmdline.readAll().contains(password));
        HttpClient http(server->port());
        const QByteArray logs =
            http.request("GET", "/logs.json", {}, basic("admin", password)).body;
        QVERIFY(logs.contains("goop.server") || logs.startsWith("["));
        QVERIFY(!logs.contains(password));
        QVERIFY(!logs.contains(password.toBase64()));
        server->terminate();
        QVERIFY(!server->log().contains(password));
        QVERIFY(!server->log().contains(password.toBase64()));
        QVERIFY(!server->log().contains(("admin:" + password).toBase64()));
    }

    void badConfigurationsAreRefused()
    {
        const auto run = [](const QStringList &arguments) {
            QProcess process;
            process.start(ServerProcess::binary(), QStringList{"-addr", "127.0.0.1:0"} + arguments);
            process.waitForFinished(10000);
            return std::make_pair(process.exitCode(), process.readAllStandardError());
        };
        auto [code, text] = run({"--private"});
        QCOMPARE(code, 2);
        QVERIFY2(text.contains("--private needs --admin-password-file"), text.constData());
        const QString loose = m_dir.filePath(QStringLiteral("loose"));
        QFile file(loose);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(password);
        file.close();
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                            QFileDevice::ReadGroup | QFileDevice::ReadOther);
        std::tie(code, text) = run({"--admin-password-file", loose});
        QCOMPARE(code, 2);
        QVERIFY2(text.contains("readable by every user"), text.constData());
        QVERIFY(!text.contains(password));
        std::tie(code, text) = run({"--trusted-proxy", "not-a-subnet"});
        QCOMPARE(code, 2);
        QVERIFY2(text.contains("invalid trusted proxy \"not-a-subnet\""), text.constData());
        // --help names the variables, never a value.
        QProcess help;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("GOOP_ADMIN_PASSWORD_FILE"), m_passwordFile);
        help.setProcessEnvironment(environment);
        help.start(ServerProcess::binary(), {"--help"});
        help.waitForFinished(10000);
        const QByteArray helpText = help.readAllStandardOutput();
        QVERIFY(helpText.contains("GOOP_ADMIN_PASSWORD_FILE"));
        QVERIFY(!helpText.contains(m_passwordFile.toUtf8()));
        QVERIFY(!helpText.contains(password));
    }

    void thePasswordFileFromTheEnvironment()
    {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("GOOP_ADMIN_PASSWORD_FILE"), m_passwordFile);
        ServerProcess server({}, environment);
        QVERIFY(server.start());
        QCOMPARE(status(server.port(), "/metrics", {}), 401);
        QCOMPARE(status(server.port(), "/metrics", basic("admin", password)), 200);
    }
};

QTEST_GUILESS_MAIN(TestOperatorDoor)
#include "tst_operatordoor.moc"
