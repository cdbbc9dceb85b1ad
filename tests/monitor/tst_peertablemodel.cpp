#include "eventlogmodel.h"
#include "peertablemodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTest>

// The peer table on its own: in-place updates, removals that keep the index consistent,
// snapshots merged into existing rows, and the "last seen" tick not disturbing a sorted view.
class TestPeerTableModel : public QObject
{
    Q_OBJECT

    static PeerRecord peer(const QString &server, const QString &id,
                           const QString &type = QStringLiteral("online"), qint64 lastSeen = 1000)
    {
        PeerRecord record;
        record.server = server;
        record.peerId = id;
        record.label = id + QStringLiteral(" label");
        record.type = type;
        record.ts = lastSeen;
        record.lastSeen = lastSeen;
        record.fields.insert(QStringLiteral("peerId"), id);
        return record;
    }

    static const inline QString a = QStringLiteral("http://a:1");
    static const inline QString b = QStringLiteral("http://b:2");

private Q_SLOTS:
    void eventsInsertUpdateRemove()
    {
        PeerTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.applyEvent(peer(a, "p1")), PeerTableModel::Change::Joined);
        QCOMPARE(model.applyEvent(peer(a, "p2")), PeerTableModel::Change::Joined);
        QCOMPARE(model.applyEvent(peer(b, "p1")),
                 PeerTableModel::Change::Joined); // same ID, other server
        QCOMPARE(model.rowCount(), 3);

        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        PeerRecord changed = peer(a, "p1", QStringLiteral("update"), 5000);
        changed.label = QStringLiteral("renamed");
        QCOMPARE(model.applyEvent(changed), PeerTableModel::Change::Updated);
        QCOMPARE(inserted.count(), 0); // in place
        const int row = model.rowOf(a, "p1");
        QCOMPARE(model.data(model.index(row, PeerTableModel::LabelColumn)).toString(),
                 QStringLiteral("renamed"));
        QCOMPARE(model.data(model.index(row, PeerTableModel::StatusColumn)).toString(),
                 QStringLiteral("update"));

        QCOMPARE(model.applyEvent(peer(a, "p1", QStringLiteral("offline"))),
                 PeerTableModel::Change::Left);
        QCOMPARE(model.applyEvent(peer(a, "p1", QStringLiteral("offline"))),
                 PeerTableModel::Change::Ignored);
        QCOMPARE(model.rowCount(), 2);
        // The rows after the removed one moved up: their index entries must have followed.
        QCOMPARE(model.peerAt(model.rowOf(a, "p2")).peerId, QStringLiteral("p2"));
        QCOMPARE(model.peerAt(model.rowOf(b, "p1")).server, b);
        QCOMPARE(model.peerCount(a), 1);
        QCOMPARE(model.peerCount(b), 1);
    }

    void snapshotMergesIntoExistingRows()
    {
        PeerTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        for (int i = 0; i < 10; ++i)
            model.applyEvent(peer(a, QStringLiteral("a%1").arg(i)));
        model.applyEvent(peer(b, QStringLiteral("b0")));

        // After a reconnect: a0..a4 gone, a5..a9 still there (one renamed), a10 new.
        QList<PeerRecord> snapshot;
        for (int i = 5; i <= 10; ++i)
            snapshot.append(peer(a, QStringLiteral("a%1").arg(i)));
        snapshot[1].label = QStringLiteral("fresh");
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        model.replaceServerPeers(a, snapshot);
        QCOMPARE(removed.count(), 1); // a0..a4 were contiguous: one notification
        QCOMPARE(model.rowCount(), 7);
        QCOMPARE(model.peerCount(a), 6);
        QCOMPARE(model.peerCount(b), 1);
        for (int i = 0; i < 5; ++i)
            QCOMPARE(model.rowOf(a, QStringLiteral("a%1").arg(i)), -1);
        for (int i = 5; i <= 10; ++i) {
            const int row = model.rowOf(a, QStringLiteral("a%1").arg(i));
            QVERIFY(row >= 0);
            QCOMPARE(model.peerAt(row).peerId, QStringLiteral("a%1").arg(i));
        }
        QCOMPARE(model.peerAt(model.rowOf(a, "a6")).label, QStringLiteral("fresh"));
        model.replaceServerPeers(a, {});
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.peerAt(0).server, b);
    }

    void unreachableServerShowsUnknown()
    {
        PeerTableModel model;
        model.applyEvent(peer(a, "p1"));
        model.applyEvent(peer(b, "p2"));
        model.setServerReachable(a, false);
        QCOMPARE(
            model.data(model.index(model.rowOf(a, "p1"), PeerTableModel::StatusColumn)).toString(),
            QStringLiteral("unknown"));
        QCOMPARE(
            model.data(model.index(model.rowOf(b, "p2"), PeerTableModel::StatusColumn)).toString(),
            QStringLiteral("online"));
        model.setServerReachable(a, true);
        QCOMPARE(
            model.data(model.index(model.rowOf(a, "p1"), PeerTableModel::StatusColumn)).toString(),
            QStringLiteral("online"));
    }

    void lastSeenTicksWithoutResorting()
    {
        PeerTableModel model;
        model.applyEvent(peer(a, "old", QStringLiteral("online"), 1000));
        model.applyEvent(peer(a, "new", QStringLiteral("online"), 9000));
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(PeerTableModel::SortRole);
        proxy.sort(PeerTableModel::LastSeenColumn, Qt::AscendingOrder);
        QCOMPARE(proxy.index(0, PeerTableModel::PeerIdColumn).data().toString(),
                 QStringLiteral("new"));

        model.setNow(10000);
        QCOMPARE(model.data(model.index(model.rowOf(a, "new"), PeerTableModel::LastSeenColumn))
                     .toString(),
                 QStringLiteral("1 s ago"));
        QCOMPARE(model.data(model.index(model.rowOf(a, "old"), PeerTableModel::LastSeenColumn))
                     .toString(),
                 QStringLiteral("9 s ago"));
        QSignalSpy layout(&proxy, &QAbstractItemModel::layoutChanged);
        model.setNow(200000);
        QCOMPARE(layout.count(), 0);
        QCOMPARE(proxy.index(0, PeerTableModel::LastSeenColumn).data().toString(),
                 QStringLiteral("3 min ago"));
    }

    void eventLogIsBounded()
    {
        EventLogModel log(100);
        QAbstractItemModelTester tester(&log,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        for (int i = 0; i < 1000; ++i)
            log.append({i, a, EventLogModel::Kind::Join, QString::number(i), {}});
        QVERIFY(log.rowCount() <= 100);
        QVERIFY(log.rowCount() >= 90);
        QCOMPARE(log.entryAt(log.rowCount() - 1).peerId, QStringLiteral("999"));
        QCOMPARE(log.count(EventLogModel::Kind::Join, QStringLiteral("999")), 1);
        QCOMPARE(log.count(EventLogModel::Kind::Join, QStringLiteral("0")), 0);
    }
};

QTEST_GUILESS_MAIN(TestPeerTableModel)
#include "tst_peertablemodel.moc"
