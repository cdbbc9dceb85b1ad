#include "httpclient.h"
#include "mainwindow.h"
#include "monitorsession.h"
#include "monitortesthelpers.h"
#include "peerdetailspane.h"
#include "peertablemodel.h"
#include "serverprocess.h"
#include "serverstatuslabel.h"

#include <QHeaderView>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using MonitorTest::peerId;
using MonitorTest::publish;

// The window against the real server, offscreen: what an operator would see.
class TestMainWindow : public QObject
{
    Q_OBJECT

    // The view row showing `id`, or -1.
    static int viewRow(MainWindow &window, const QString &id)
    {
        QSortFilterProxyModel *proxy = window.peerProxy();
        for (int row = 0; row < proxy->rowCount(); ++row) {
            if (proxy->index(row, PeerTableModel::PeerIdColumn).data().toString() == id)
                return row;
        }
        return -1;
    }

    static QString cell(MainWindow &window, const QString &id, int column)
    {
        const int row = viewRow(window, id);
        return row < 0 ? QString() : window.peerProxy()->index(row, column).data().toString();
    }

    QTemporaryDir m_dir;

private Q_SLOTS:
    void followsTheServerThroughARestart()
    {
        auto server = std::make_unique<ServerProcess>();
        QVERIFY(server->start());
        const quint16 port = server->port();
        const QString url = server->baseUrl();

        QSettings settings(m_dir.filePath(QStringLiteral("monitor.ini")), QSettings::IniFormat);
        MonitorSession session;
        MainWindow window(&session, &settings);
        window.startFollowing({QUrl(url)});
        window.resize(1200, 700);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        ServerStatusLabel *status = window.statusLabel(url);
        QVERIFY(status);
        QTRY_VERIFY_WITH_TIMEOUT(status->text().contains(QLatin1String("connected")), 10000);

        // A published peer appears, with its extra fields in the details pane.
        auto http = std::make_unique<HttpClient>(port);
        QVERIFY(publish(*http, "online", peerId(7), QStringLiteral("kitchen-laptop"),
                        R"("email":"k@example.org","goopClientVersion":"2.4.1")"));
        QVERIFY(publish(*http, "online", peerId(8), QStringLiteral("garage-pi")));
        QTRY_VERIFY_WITH_TIMEOUT(viewRow(window, peerId(7)) >= 0, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(viewRow(window, peerId(8)) >= 0, 5000);
        QCOMPARE(cell(window, peerId(7), PeerTableModel::LabelColumn),
                 QStringLiteral("kitchen-laptop"));
        QCOMPARE(cell(window, peerId(7), PeerTableModel::StatusColumn), QStringLiteral("online"));
        QTRY_VERIFY(status->text().contains(QLatin1String("2 peers")));

        window.peerTable()->selectRow(viewRow(window, peerId(7)));
        QCOMPARE(window.detailsPane()->peerId(), peerId(7));
        QCOMPARE(window.detailsPane()->fieldCount(),
                 7); // type, peerId, content, ts, email, version, and the server's verified
        QCOMPARE(cell(window, peerId(7), PeerTableModel::ClientColumn), QStringLiteral("verified"));

        // The filter narrows the table; clearing it brings everything back.
        window.setFilterText(QStringLiteral("garage"));
        QCOMPARE(window.peerProxy()->rowCount(), 1);
        QVERIFY(viewRow(window, peerId(8)) >= 0);
        window.setFilterText({});
        QCOMPARE(window.peerProxy()->rowCount(), 2);

        // An update changes the row in place; offline removes it.
        QVERIFY(publish(*http, "update", peerId(7), QStringLiteral("kitchen-laptop (away)")));
        QTRY_COMPARE_WITH_TIMEOUT(cell(window, peerId(7), PeerTableModel::LabelColumn),
                                  QStringLiteral("kitchen-laptop (away)"), 5000);
        QVERIFY(publish(*http, "offline", peerId(7)));
        QTRY_COMPARE_WITH_TIMEOUT(viewRow(window, peerId(7)), -1, 5000);
        QCOMPARE(window.peerProxy()->rowCount(), 1);

        // The server goes away: the status bar says so, the remaining row is "unknown".
        http.reset();
        QVERIFY(server->terminate() >= 0);
        QTRY_VERIFY_WITH_TIMEOUT(status->text().contains(QLatin1String("reconnecting")), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(cell(window, peerId(8), PeerTableModel::StatusColumn),
                                  QStringLiteral("unknown"), 5000);

        // It comes back on the same port; the peers republish, as real ones do every 5 s.
        server = std::make_unique<ServerProcess>(
            QStringList{QStringLiteral("-addr"), QStringLiteral("127.0.0.1:%1").arg(port)});
        QVERIFY(server->start());
        http = std::make_unique<HttpClient>(port);
        QVERIFY(publish(*http, "online", peerId(8), QStringLiteral("garage-pi")));
        QVERIFY(publish(*http, "online", peerId(9), QStringLiteral("new-phone")));
        QTRY_VERIFY_WITH_TIMEOUT(status->text().contains(QLatin1String("connected")), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(viewRow(window, peerId(9)) >= 0, 5000);
        QCOMPARE(cell(window, peerId(8), PeerTableModel::StatusColumn), QStringLiteral("online"));
        QCOMPARE(window.peerProxy()->rowCount(), 2);

        window.setFilterText(QStringLiteral("phone"));
        window.peerTable()->horizontalHeader()->moveSection(PeerTableModel::StatusColumn, 0);
        window.close(); // saves the settings
    }

    // Runs after the test above: a new window restores what the last one saved.
    void settingsPersist()
    {
        QSettings settings(m_dir.filePath(QStringLiteral("monitor.ini")), QSettings::IniFormat);
        QVERIFY(settings.value(QStringLiteral("servers")).toStringList().size() == 1);
        MonitorSession session;
        MainWindow window(&session, &settings);
        window.startFollowing({});
        QCOMPARE(session.connections().size(), 1);
        QCOMPARE(session.connections().first()->server(),
                 settings.value(QStringLiteral("servers")).toStringList().first());
        QCOMPARE(window.peerProxy()->filterRegularExpression().pattern(), QStringLiteral("phone"));
        QCOMPARE(window.peerTable()->horizontalHeader()->visualIndex(PeerTableModel::StatusColumn),
                 0);
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
