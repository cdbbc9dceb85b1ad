#include "chunkingproxy.h"
#include "eventlogmodel.h"
#include "httpclient.h"
#include "monitorsession.h"
#include "monitortesthelpers.h"
#include "peertablemodel.h"
#include "serverprocess.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>
#ifdef Q_OS_UNIX
#include <csignal>
#endif

using MonitorTest::peerId;
using MonitorTest::publish;
using State = ServerConnection::State;

// ServerConnection and MonitorSession against the real server over loopback.
class TestServerConnection : public QObject
{
    Q_OBJECT

    static bool waitForState(ServerConnection *connection, State state, int timeoutMs = 15000)
    {
        QElapsedTimer clock;
        clock.start();
        while (connection->state() != state && clock.elapsed() < timeoutMs)
            QTest::qWait(20);
        return connection->state() == state;
    }

    static QSet<QString> peerIds(const PeerTableModel *model)
    {
        QSet<QString> ids;
        for (int row = 0; row < model->rowCount(); ++row)
            ids.insert(model->peerAt(row).peerId);
        return ids;
    }

private Q_SLOTS:
    void snapshotThenLiveEvents()
    {
        ServerProcess server;
        QVERIFY(server.start());
        HttpClient http(server.port());
        QVERIFY(publish(http, "online", peerId(1), QStringLiteral("alice"),
                        R"("email":"a@example.org","addrs":["/ip4/10.0.0.1/tcp/4001"])"));
        QVERIFY(publish(http, "update", peerId(2), QStringLiteral("bob")));

        MonitorSession session;
        ServerConnection *connection = session.addServer(QUrl(server.baseUrl()));
        QVERIFY(waitForState(connection, State::Connected));
        PeerTableModel *peers = session.peers();
        QCOMPARE(peers->rowCount(), 2);
        const PeerRecord &alice = peers->peerAt(peers->rowOf(connection->server(), peerId(1)));
        QCOMPARE(alice.label, QStringLiteral("alice"));
        QCOMPARE(alice.fields.value("email").toString(), QStringLiteral("a@example.org"));
        QCOMPARE(alice.fields.value("addrs").toArray().size(), 1);
        QVERIFY(alice.lastSeen > 0);

        QVERIFY(publish(http, "online", peerId(3), QStringLiteral("carol"),
                        R"("goopClientVersion":"2.4.1")"));
        QVERIFY(publish(http, "offline", peerId(2)));
        QTRY_COMPARE_WITH_TIMEOUT(peers->rowOf(connection->server(), peerId(2)), -1, 5000);
        QVERIFY(peers->rowOf(connection->server(), peerId(3)) >= 0); // published before the offline
        QCOMPARE(peers->rowCount(), 2);
        const PeerRecord &carol = peers->peerAt(peers->rowOf(connection->server(), peerId(3)));
        QCOMPARE(carol.fields.value("goopClientVersion").toString(), QStringLiteral("2.4.1"));
        QCOMPARE(session.log()->count(EventLogModel::Kind::Join, peerId(3)), 1);
        QCOMPARE(session.log()->count(EventLogModel::Kind::Leave, peerId(2)), 1);
        QVERIFY(connection->lastEventMs() > 0);
    }

    // The server's bytes reach the client in 1..13-byte pieces through a relay: every message
    // must still come out whole and in order.
    void oddChunksThroughTheClient()
    {
        ServerProcess server;
        QVERIFY(server.start());
        ChunkingProxy proxy(server.port());
        QVERIFY(proxy.listen());
        ServerConnection connection(QUrl(proxy.baseUrl()));
        QList<PeerRecord> received;
        connect(&connection, &ServerConnection::peerEvent, this,
                [&](const PeerRecord &record) { received.append(record); });
        connection.start();
        QVERIFY(waitForState(&connection, State::Connected));

        HttpClient http(server.port());
        const int count = 60;
        for (int i = 0; i < count; ++i)
            QVERIFY(publish(http, i % 3 == 2 ? "offline" : "online", peerId(i),
                            QStringLiteral("n\\u00e4me %1 ✓").arg(i),
                            R"("avatarHash":"abc\ndef")"));
        QTRY_COMPARE_WITH_TIMEOUT(received.size(), count, 20000);
        for (int i = 0; i < count; ++i) {
            QCOMPARE(received.at(i).peerId, peerId(i));
            QCOMPARE(received.at(i).type, QLatin1String(i % 3 == 2 ? "offline" : "online"));
            QCOMPARE(received.at(i).label, QStringLiteral("näme %1 ✓").arg(i));
            if (i % 3 != 2)
                QCOMPARE(received.at(i).fields.value("avatarHash").toString(),
                         QStringLiteral("abc\ndef"));
        }
        QCOMPARE(connection.malformedEvents(), 0);
        QVERIFY(proxy.chunksSent() > count * 10); // the bytes really went in pieces
    }

    // Deterministic: messages published after the stream is live but before the snapshot is
    // requested land in both; the result must be the same as if the monitor had seen all.
    void snapshotAndStreamWithoutGap()
    {
        ServerProcess server;
        QVERIFY(server.start());
        HttpClient http(server.port());
        QVERIFY(publish(http, "online", peerId(1), QStringLiteral("stays")));
        QVERIFY(publish(http, "online", peerId(2), QStringLiteral("leaves")));
        QVERIFY(publish(http, "online", peerId(3), QStringLiteral("v1")));

        MonitorSession session;
        ServerConnection *connection = session.addServer(QUrl(server.baseUrl()));
        int opened = 0;
        connect(connection, &ServerConnection::streamOpened, this, [&] {
            ++opened;
            QVERIFY(publish(http, "online", peerId(4), QStringLiteral("joins")));
            QVERIFY(publish(http, "offline", peerId(2)));
            QVERIFY(publish(http, "update", peerId(3), QStringLiteral("v2")));
        });
        QVERIFY(waitForState(connection, State::Connected));
        QCOMPARE(opened, 1);
        const PeerTableModel *peers = session.peers();
        // The snapshot alone already gives these rows; the events it overlaps follow in a batch,
        // and the table must still be right once they are in.
        QTRY_COMPARE_WITH_TIMEOUT(session.log()->count(EventLogModel::Kind::Join, peerId(4)), 1,
                                  5000);
        QTRY_COMPARE_WITH_TIMEOUT(session.log()->count(EventLogModel::Kind::Leave, peerId(2)), 1,
                                  5000);
        QCOMPARE(peerIds(peers), (QSet<QString>{peerId(1), peerId(3), peerId(4)}));
        QCOMPARE(peers->rowCount(), 3);
        QCOMPARE(peers->peerAt(peers->rowOf(connection->server(), peerId(3))).label,
                 QStringLiteral("v2"));
    }

    // Racy on purpose: a thread publishes joins and leaves while the monitor connects. Whatever
    // the interleaving, the table must end up as the server's own list, each peer once.
    void publishWhileConnecting()
    {
        ServerProcess server;
        QVERIFY(server.start());
        const quint16 port = server.port();
        const int count = 400;
        std::atomic<int> failures{0};
        std::atomic<int> published{0};
        QThread *publisher = QThread::create([&] {
            HttpClient http(port);
            for (int i = 0; i < count; ++i) {
                if (!publish(http, "online", peerId(i), QStringLiteral("peer %1").arg(i)))
                    ++failures;
                if (i % 4 == 3 && !publish(http, "offline", peerId(i - 2)))
                    ++failures;
                ++published;
            }
        });
        publisher->start();
        QTRY_VERIFY_WITH_TIMEOUT(published.load() > 20, 10000);
        MonitorSession session;
        ServerConnection *connection = session.addServer(QUrl(server.baseUrl()));
        QVERIFY(waitForState(connection, State::Connected));
        QVERIFY(publisher->wait(30000));
        delete publisher;
        QCOMPARE(failures.load(), 0);

        QSet<QString> expected;
        for (int i = 0; i < count; ++i) {
            if (i % 4 != 1)
                expected.insert(peerId(i));
        }
        QTRY_COMPARE_WITH_TIMEOUT(peerIds(session.peers()), expected, 10000);
        QCOMPARE(session.peers()->rowCount(), expected.size()); // no duplicates
        HttpClient check(port);
        const auto list = QJsonDocument::fromJson(check.get("/peers.json").body).array();
        QCOMPARE(list.size(), expected.size());
    }

    // Live events wait for their batch: nothing reaches the models until it is due, then the
    // whole batch goes in with one insertion into each model (joins that left again or were
    // renamed before showing cost nothing more), and the log has every event. A state change
    // applies what is queued before it shows.
    void eventsAreAppliedInBatches()
    {
        ServerProcess server;
        QVERIFY(server.start());
        HttpClient http(server.port());
        MonitorSession session;
        session.setBatchInterval(60000);
        ServerConnection *connection = session.addServer(QUrl(server.baseUrl()));
        QVERIFY(waitForState(connection, State::Connected));
        int received = 0;
        connect(connection, &ServerConnection::peerEvent, this, [&] { ++received; });
        const int count = 120;
        for (int i = 0; i < count; ++i)
            QVERIFY(publish(http, "online", peerId(i), QStringLiteral("peer %1").arg(i)));
        for (int i = 0; i < count; i += 3)
            QVERIFY(publish(http, "update", peerId(i), QStringLiteral("renamed %1").arg(i)));
        for (int i = 1; i < count; i += 3)
            QVERIFY(publish(http, "offline", peerId(i)));
        const int total = count + 2 * (count / 3);
        QTRY_COMPARE_WITH_TIMEOUT(received, total, 10000);
        PeerTableModel *peers = session.peers();
        QCOMPARE(peers->rowCount(), 0);
        QCOMPARE(session.pendingEvents(), total);

        QSignalSpy inserted(peers, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(peers, &QAbstractItemModel::rowsRemoved);
        QSignalSpy changed(peers, &QAbstractItemModel::dataChanged);
        QSignalSpy logged(session.log(), &QAbstractItemModel::rowsInserted);
        session.flush();
        QCOMPARE(session.pendingEvents(), 0);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(removed.count() + changed.count(), 0);
        QCOMPARE(logged.count(), 1);
        QCOMPARE(peers->rowCount(), count - count / 3);
        const QString url = connection->server();
        QCOMPARE(peers->peerAt(peers->rowOf(url, peerId(0))).label, QStringLiteral("renamed 0"));
        QCOMPARE(peers->peerAt(peers->rowOf(url, peerId(2))).label, QStringLiteral("peer 2"));
        QCOMPARE(peers->rowOf(url, peerId(1)), -1);
        QCOMPARE(session.log()->count(EventLogModel::Kind::Join, peerId(1)), 1);
        QCOMPARE(session.log()->count(EventLogModel::Kind::Leave, peerId(1)), 1);
        QCOMPARE(session.log()->count(EventLogModel::Kind::Update, peerId(0)), 1);

        QVERIFY(publish(http, "offline", peerId(0)));
        QTRY_COMPARE_WITH_TIMEOUT(session.pendingEvents(), 1, 5000);
        QVERIFY(peers->rowOf(url, peerId(0)) >= 0);
        QVERIFY(server.terminate() >= 0);
        QVERIFY(waitForState(connection, State::Reconnecting, 5000));
        QCOMPARE(session.pendingEvents(), 0);
        QCOMPARE(peers->rowOf(url, peerId(0)), -1);
    }

    void reconnectsAfterRestartWithFreshSnapshot()
    {
        auto server = std::make_unique<ServerProcess>();
        QVERIFY(server->start());
        const quint16 port = server->port();
        {
            HttpClient http(port);
            QVERIFY(publish(http, "online", peerId(1), QStringLiteral("before")));
        }
        MonitorSession session;
        ServerConnection *connection = session.addServer(QUrl(server->baseUrl()));
        QVERIFY(waitForState(connection, State::Connected));
        QCOMPARE(session.peers()->rowCount(), 1);

        QVERIFY(server->terminate() >= 0);
        QVERIFY(waitForState(connection, State::Reconnecting, 5000));
        QVERIFY(!connection->lastError().isEmpty());
        // The row stays, but the table no longer vouches for it.
        QCOMPARE(session.peers()
                     ->data(session.peers()->index(0, PeerTableModel::StatusColumn))
                     .toString(),
                 QStringLiteral("unknown"));

        server = std::make_unique<ServerProcess>(
            QStringList{QStringLiteral("-addr"), QStringLiteral("127.0.0.1:%1").arg(port)});
        QVERIFY(server->start());
        QCOMPARE(server->port(), port);
        {
            HttpClient http(port);
            QVERIFY(publish(http, "online", peerId(2), QStringLiteral("after")));
        }
        QVERIFY(waitForState(connection, State::Connected, 20000));
        // The new server could not resume after the old one's last event: a snapshot.
        QVERIFY(!connection->resumed());
        QCOMPARE(connection->startedHow(), QStringLiteral("from a snapshot"));
        // The fresh snapshot replaced what the old server had: peer 1 is gone.
        QTRY_COMPARE_WITH_TIMEOUT(peerIds(session.peers()), QSet<QString>{peerId(2)}, 5000);
        QCOMPARE(session.peers()
                     ->data(session.peers()->index(0, PeerTableModel::StatusColumn))
                     .toString(),
                 QStringLiteral("online"));
    }

    // A connection dropped on the way (a proxy recycling it): the monitor resumes after the last
    // event it had, gets what it missed, and does not reload the peer list.
    void resumesAfterADroppedConnection()
    {
        ServerProcess server;
        QVERIFY(server.start());
        ChunkingProxy proxy(server.port());
        QVERIFY(proxy.listen());
        HttpClient http(server.port());
        QVERIFY(publish(http, "online", peerId(1), QStringLiteral("stays")));
        MonitorSession session;
        session.setBackoff(100, 200);
        ServerConnection *connection = session.addServer(QUrl(proxy.baseUrl()));
        QVERIFY(waitForState(connection, State::Connected));
        QCOMPARE(connection->startedHow(), QStringLiteral("from a snapshot"));
        QVERIFY(publish(http, "online", peerId(2), QStringLiteral("leaves while away")));
        QTRY_COMPARE_WITH_TIMEOUT(peerIds(session.peers()), (QSet<QString>{peerId(1), peerId(2)}),
                                  5000);
        QSignalSpy snapshots(connection, &ServerConnection::snapshotLoaded);

        proxy.cut();
        QVERIFY(waitForState(connection, State::Reconnecting, 5000));
        QVERIFY(publish(http, "offline", peerId(2)));
        QVERIFY(publish(http, "online", peerId(3), QStringLiteral("came while away")));
        QVERIFY(waitForState(connection, State::Connected, 10000));
        QVERIFY(connection->resumed());
        QCOMPARE(connection->startedHow(), QStringLiteral("resumed, 2 missed events replayed"));
        QTRY_COMPARE_WITH_TIMEOUT(peerIds(session.peers()), (QSet<QString>{peerId(1), peerId(3)}),
                                  5000);
        QCOMPARE(snapshots.count(), 0);
    }

    // Starts `connection` towards a closed port and collects the delays of its first `count`
    // retries.
    static QList<int> retryDelays(ServerConnection &connection, int count)
    {
        QList<int> delays;
        QObject::connect(&connection, &ServerConnection::stateChanged, &connection,
                         [&](State state) {
                             if (state == State::Reconnecting)
                                 delays.append(connection.retryDelay());
                         });
        connection.start();
        // No verdict here: the callers compare the list, and a short one fails there.
        static_cast<void>(QTest::qWaitFor([&] { return delays.size() >= count; }, 15000));
        connection.stop();
        return delays.mid(0, count);
    }

    static QUrl closedPortUrl()
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(probe.serverPort()));
        // the probe closes here: nothing listens there now, every attempt is refused
    }

    void backoffDoublesToTheCap()
    {
        ServerConnection connection(closedPortUrl());
        connection.setBackoff(100, 800);
        QCOMPARE(retryDelays(connection, 6), (QList<int>{100, 200, 400, 800, 800, 800}));
        QCOMPARE(connection.state(), State::Idle);
    }

    void defaultBackoffStartsAt250()
    {
        ServerConnection connection(closedPortUrl());
        QCOMPARE(retryDelays(connection, 3), (QList<int>{250, 500, 1000}));
    }

#ifdef Q_OS_UNIX // SIGSTOP/SIGCONT freeze and thaw the server
    // Pings keep a quiet stream alive; a stream that stops (the server frozen with SIGSTOP,
    // its socket still open) is noticed by the watchdog, and the monitor comes back when the
    // server does.
    void silenceWatchdog()
    {
        ServerProcess server({QStringLiteral("--heartbeat"), QStringLiteral("500ms")});
        QVERIFY(server.start());
        MonitorSession session;
        session.setSilenceTimeout(2000);
        ServerConnection *connection = session.addServer(QUrl(server.baseUrl()));
        QVERIFY(waitForState(connection, State::Connected));
        QSignalSpy states(connection, &ServerConnection::stateChanged);
        QTest::qWait(3500); // longer than the timeout, but pings arrive every 500 ms
        QCOMPARE(connection->state(), State::Connected);
        QCOMPARE(states.count(), 0);

        ::kill(static_cast<pid_t>(server.pid()), SIGSTOP);
        QVERIFY(waitForState(connection, State::Reconnecting, 6000));
        QVERIFY2(connection->lastError().contains(QLatin1String("no data")),
                 qPrintable(connection->lastError()));
        ::kill(static_cast<pid_t>(server.pid()), SIGCONT);
        QVERIFY(waitForState(connection, State::Connected, 20000));
    }
#endif

    // A server with --private: /peers.json is behind the operators' door.
    void behindTheOperatorsDoor()
    {
        QTemporaryDir dir;
        const auto secretFile = [&](const QString &name, const QByteArray &text) {
            const QString path = dir.filePath(name);
            QFile file(path);
            if (file.open(QIODevice::WriteOnly))
                file.write(text);
            file.close();
            file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
            return path;
        };
        ServerProcess server({"--admin-password-file",
                              secretFile(QStringLiteral("password"), "monitor-door\n"),
                              "--private"});
        QVERIFY(server.start());
        HttpClient http(server.port());
        QVERIFY(publish(http, "online", peerId(1), QStringLiteral("private")));

        // No credentials and nobody to ask: it says why, and keeps retrying.
        {
            MonitorSession session;
            session.setBackoff(100, 200);
            ServerConnection *connection = session.addServer(QUrl(server.baseUrl()));
            QVERIFY(waitForState(connection, State::Reconnecting));
            QVERIFY2(connection->lastError().contains(QLatin1String("401")),
                     qPrintable(connection->lastError()));
        }
        // A credentials file (netrc, as curl reads it).
        {
            MonitorSession session;
            QString error;
            QVERIFY2(session.credentials().loadNetrc(
                         secretFile(QStringLiteral("netrc"),
                                    "machine elsewhere login admin password other\n"
                                    "machine 127.0.0.1\n  login admin\n  password monitor-door\n"),
                         &error),
                     qPrintable(error));
            ServerConnection *connection = session.addServer(QUrl(server.baseUrl()));
            QVERIFY(waitForState(connection, State::Connected));
            QVERIFY(session.peers()->rowOf(connection->server(), peerId(1)) >= 0);
        }
        // The prompt: a wrong password, asked again with that said, then the right one.
        {
            MonitorSession session;
            session.setBackoff(100, 200);
            QList<bool> asked;
            session.setPasswordPrompt([&](const QString &, bool failedBefore) {
                asked.append(failedBefore);
                return std::optional<Credentials>(
                    {QStringLiteral("admin"),
                     asked.size() == 1 ? QStringLiteral("guess") : QStringLiteral("monitor-door")});
            });
            ServerConnection *connection = session.addServer(QUrl(server.baseUrl()));
            QVERIFY(waitForState(connection, State::Connected));
            QCOMPARE(asked, (QList<bool>{false, true}));
            QVERIFY(session.peers()->rowOf(connection->server(), peerId(1)) >= 0);
        }
        // A cancelled prompt is not shown again for that server.
        {
            MonitorSession session;
            session.setBackoff(100, 200);
            int asked = 0;
            session.setPasswordPrompt([&](const QString &, bool) {
                ++asked;
                return std::optional<Credentials>();
            });
            ServerConnection *connection = session.addServer(QUrl(server.baseUrl()));
            QVERIFY(waitForState(connection, State::Reconnecting));
            QTest::qWait(1000); // several retries
            QCOMPARE(asked, 1);
        }
        // A credentials file everyone can read is refused.
        QString error;
        CredentialStore store;
        const QString loose =
            secretFile(QStringLiteral("loose"), "default login admin password x\n");
        QFile(loose).setPermissions(QFileDevice::ReadOwner | QFileDevice::ReadOther);
        QVERIFY(!store.loadNetrc(loose, &error));
        QVERIFY2(error.contains(QLatin1String("every user")), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestServerConnection)
#include "tst_serverconnection.moc"
