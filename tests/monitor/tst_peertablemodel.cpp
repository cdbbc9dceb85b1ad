#include "eventlogmodel.h"
#include "peerproxymodel.h"
#include "peertablemodel.h"
#include "presencemessage.h"

#include <QAbstractItemModelTester>
#include <QJsonObject>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTest>

// The peer table on its own: in-place updates, removals that keep the index consistent,
// snapshots merged into existing rows, the "last seen" tick not disturbing a sorted view, and
// batches of events ending where one event at a time would, with a bounded number of signals.
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

    // Every row as "server peerId label type lastSeen", sorted: the table's content regardless
    // of row order.
    static QStringList content(const PeerTableModel &model)
    {
        QStringList rows;
        for (int row = 0; row < model.rowCount(); ++row) {
            const PeerRecord &p = model.peerAt(row);
            rows.append(
                QStringList{p.server, p.peerId, p.label, p.type, QString::number(p.lastSeen)}.join(
                    QLatin1Char(' ')));
            if (model.rowOf(p.server, p.peerId) != row)
                rows.append(QStringLiteral("bad index for ") + p.peerId);
        }
        rows.sort();
        return rows;
    }

    // Counts what a view would have to react to.
    struct SignalCounts
    {
        explicit SignalCounts(QAbstractItemModel *model)
            : dataChanged(model, &QAbstractItemModel::dataChanged),
              inserted(model, &QAbstractItemModel::rowsInserted),
              removed(model, &QAbstractItemModel::rowsRemoved),
              layoutChanged(model, &QAbstractItemModel::layoutChanged)
        {}
        QSignalSpy dataChanged, inserted, removed, layoutChanged;
    };

private Q_SLOTS:
    // Today's clients: the server's `verified`, and whether the peer is on a WebSocket, which
    // only snapshot rows say; an event keeps what the row knew.
    void clientColumn()
    {
        PeerTableModel model;
        PeerRecord onSocket = *PeerRecord::fromSnapshotRow(
            QJsonObject{
                {"peer_id", "w"}, {"type", "online"}, {"verified", true}, {"ws_connected", true}},
            a);
        PeerRecord plain = *PeerRecord::fromSnapshotRow(
            QJsonObject{{"peer_id", "p"}, {"type", "online"}, {"verified", false}}, a);
        model.replaceServerPeers(a, {onSocket, plain});
        const auto client = [&](const QString &id) {
            return model.data(model.index(model.rowOf(a, id), PeerTableModel::ClientColumn))
                .toString();
        };
        QCOMPARE(client("w"), QStringLiteral("WebSocket, verified"));
        QCOMPARE(client("p"), QStringLiteral("unverified"));
        PresenceMessage update;
        update.type = PresenceMessage::Type::Update;
        update.peerId = "w";
        update.verified = true;
        model.applyEvent(PeerRecord::fromMessage(update, a, 2000));
        QCOMPARE(client("w"), QStringLiteral("WebSocket, verified"));
        QCOMPARE(model.headerData(PeerTableModel::ClientColumn, Qt::Horizontal, Qt::DisplayRole)
                     .toString(),
                 QStringLiteral("Client"));
    }

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

    // A batch mixing every case (updates, repeated updates, leaves, a leave and a return, joins,
    // a join that leaves again, a join updated, a leave of an unknown peer) ends as the same
    // events one at a time would, reports the same changes, and notifies once per kind.
    void batchMatchesSingleEvents()
    {
        PeerTableModel single;
        PeerTableModel batched;
        QAbstractItemModelTester tester(&batched,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        for (int i = 0; i < 100; ++i) {
            single.applyEvent(peer(a, QStringLiteral("p%1").arg(i)));
            batched.applyEvent(peer(a, QStringLiteral("p%1").arg(i)));
        }
        batched.applyEvent(peer(b, QStringLiteral("p0")));
        single.applyEvent(peer(b, QStringLiteral("p0")));

        const QString update = QStringLiteral("update");
        const QString offline = QStringLiteral("offline");
        const QString online = QStringLiteral("online");
        QList<PeerRecord> events;
        qint64 time = 5000;
        const auto add = [&](const QString &id, const QString &type, const QString &server = a) {
            PeerRecord record = peer(server, id, type, ++time);
            record.label = QStringLiteral("%1 at %2").arg(id).arg(time);
            events.append(record);
        };
        for (int i = 0; i < 100; i += 7)
            add(QStringLiteral("p%1").arg(i), update); // scattered updates
        add(QStringLiteral("p14"), update);            // the same peer twice
        for (int i = 40; i < 45; ++i)
            add(QStringLiteral("p%1").arg(i), offline); // one run of leavers
        add(QStringLiteral("p50"), offline);
        add(QStringLiteral("p50"), online); // back within the batch
        add(QStringLiteral("p50"), update);
        add(QStringLiteral("new1"), online);
        add(QStringLiteral("new2"), online);
        add(QStringLiteral("new2"), offline); // never becomes a row
        add(QStringLiteral("new1"), update);
        add(QStringLiteral("new3"), update); // an update of an unknown peer is a join
        add(QStringLiteral("ghost"), offline);
        add(QStringLiteral("p41"), offline); // left already
        add(QStringLiteral("p0"), offline, b);

        QList<PeerTableModel::Change> expected;
        for (const PeerRecord &record : std::as_const(events))
            expected.append(single.applyEvent(record));

        SignalCounts signalCounts(&batched);
        const QList<PeerTableModel::Outcome> outcomes = batched.applyEvents(events);
        QCOMPARE(outcomes.size(), events.size());
        for (qsizetype i = 0; i < events.size(); ++i)
            QCOMPARE(outcomes.at(i).change, expected.at(i));
        QCOMPARE(outcomes.at(16).leftLabel, QStringLiteral("p40 label")); // the row's label
        QCOMPARE(content(batched), content(single));
        QCOMPARE(batched.peerCount(a), single.peerCount(a));
        QCOMPARE(batched.peerCount(b), 0);

        QCOMPARE(signalCounts.inserted.count(), 1); // new1 and new3 together
        QCOMPARE(signalCounts.inserted.at(0).at(2).toInt() -
                     signalCounts.inserted.at(0).at(1).toInt(),
                 1);
        QCOMPARE(signalCounts.removed.count(), 2); // p40..p44 (p41 once) and b's p0
        // One per contiguous run of updated rows, never one per event.
        QVERIFY(signalCounts.dataChanged.count() <= 16);
        QCOMPARE(signalCounts.layoutChanged.count(), 0);
        for (const QList<QVariant> &args : std::as_const(signalCounts.dataChanged)) {
            // The peer ID never changes in place.
            QCOMPARE(args.at(0).toModelIndex().column(), int(PeerTableModel::LabelColumn));
            QCOMPARE(args.at(1).toModelIndex().column(), int(PeerTableModel::LastSeenColumn));
        }
    }

    // Past maxChangedRuns scattered rows one span covers them all.
    void denseBatchIsOneNotification()
    {
        PeerTableModel model;
        QList<PeerRecord> joins;
        const int count = 4 * PeerTableModel::maxChangedRuns;
        for (int i = 0; i < count; ++i)
            joins.append(peer(a, QStringLiteral("p%1").arg(i)));
        model.applyEvents(joins);
        QCOMPARE(model.rowCount(), count);

        QList<PeerRecord> updates;
        for (int i = 0; i < count; i += 2) // every other row: count / 2 runs
            updates.append(
                peer(a, QStringLiteral("p%1").arg(i), QStringLiteral("update"), 9000 + i));
        SignalCounts signalCounts(&model);
        model.applyEvents(updates);
        QCOMPARE(signalCounts.dataChanged.count(), 1);
        QCOMPARE(signalCounts.dataChanged.at(0).at(0).toModelIndex().row(), 0);
        QCOMPARE(signalCounts.dataChanged.at(0).at(1).toModelIndex().row(), count - 2);
        QCOMPARE(signalCounts.inserted.count() + signalCounts.removed.count(), 0);
    }

    // What the window sees through its proxy: a batch re-sorts the table the right way, and a
    // table sorted by peer ID is not re-sorted at all by updates.
    void proxySortsBatchesOnce()
    {
        PeerTableModel model;
        for (int i = 0; i < 1000; ++i)
            model.applyEvent(peer(a, QStringLiteral("p%1").arg(i, 4, 10, QLatin1Char('0')),
                                  QStringLiteral("online"), i));
        PeerProxyModel proxy(&model);
        QAbstractItemModelTester tester(&proxy,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        proxy.sort(PeerTableModel::LastSeenColumn, Qt::AscendingOrder);
        QCOMPARE(proxy.index(0, PeerTableModel::PeerIdColumn).data().toString(),
                 QStringLiteral("p0999"));

        QList<PeerRecord> updates;
        for (int i = 0; i < 40; ++i) {
            const int n = (i * 397) % 1000;
            updates.append(peer(a, QStringLiteral("p%1").arg(n, 4, 10, QLatin1Char('0')),
                                QStringLiteral("update"), 5000 + i));
        }
        updates.append(peer(a, QStringLiteral("joiner"), QStringLiteral("online"), 2000));
        model.applyEvents(updates);
        QCOMPARE(proxy.rowCount(), 1001);
        // Most recent first: the batch's last update, then back in time.
        QCOMPARE(proxy.index(0, PeerTableModel::PeerIdColumn).data().toString(),
                 updates.at(39).peerId);
        for (int row = 1; row < proxy.rowCount(); ++row) {
            const auto stamp = [&](int r) {
                return proxy.index(r, PeerTableModel::LastSeenColumn)
                    .data(PeerTableModel::SortRole)
                    .toLongLong();
            };
            QVERIFY2(stamp(row - 1) <= stamp(row), qPrintable(QString::number(row)));
        }
        QCOMPARE(proxy.index(40, PeerTableModel::PeerIdColumn).data().toString(),
                 QStringLiteral("joiner"));

        proxy.sort(PeerTableModel::PeerIdColumn, Qt::AscendingOrder);
        SignalCounts signalCounts(&proxy);
        for (PeerRecord &record : updates)
            record.lastSeen += 10000;
        model.applyEvents(updates);
        QCOMPARE(signalCounts.layoutChanged.count(), 0);
        QCOMPARE(proxy.index(0, PeerTableModel::PeerIdColumn).data().toString(),
                 QStringLiteral("joiner"));

        // The filter follows batches too: a renamed peer comes in, a leaver goes.
        proxy.setFilterKeyColumn(-1);
        proxy.setFilterFixedString(QStringLiteral("joiner"));
        QCOMPARE(proxy.rowCount(), 1);
        PeerRecord renamed = peer(a, QStringLiteral("p0500"), QStringLiteral("update"), 90000);
        renamed.label = QStringLiteral("second joiner");
        model.applyEvents({renamed, peer(a, QStringLiteral("joiner"), QStringLiteral("offline"))});
        QCOMPARE(proxy.rowCount(), 1);
        QCOMPARE(proxy.index(0, PeerTableModel::PeerIdColumn).data().toString(),
                 QStringLiteral("p0500"));
    }

    // The proxy compares rows with the settings it cached; changing one while sorted must
    // re-sort with the new value, not the old.
    void proxyFollowsSortSettings()
    {
        PeerTableModel model;
        for (const char *label : {"b", "A", "a", "B"}) {
            PeerRecord record = peer(a, QString::fromLatin1(label) + QStringLiteral("-id"));
            record.label = QString::fromLatin1(label);
            model.applyEvent(record);
        }
        PeerProxyModel proxy(&model);
        proxy.sort(PeerTableModel::LabelColumn, Qt::AscendingOrder);
        const auto labels = [&] {
            QString text;
            for (int row = 0; row < proxy.rowCount(); ++row)
                text += proxy.index(row, PeerTableModel::LabelColumn).data().toString();
            return text;
        };
        QCOMPARE(labels(), QStringLiteral("ABab"));
        proxy.setSortCaseSensitivity(Qt::CaseInsensitive);
        QCOMPARE(labels().toLower(), QStringLiteral("aabb"));
        proxy.setSortCaseSensitivity(Qt::CaseSensitive);
        QCOMPARE(labels(), QStringLiteral("ABab"));
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

    // A batch goes in with one insertion and at most one removal of the oldest entries.
    void eventLogAppendsBatches()
    {
        EventLogModel log(100);
        QAbstractItemModelTester tester(&log,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        const auto batch = [](int first, int count) {
            QList<EventLogModel::Entry> entries;
            for (int i = first; i < first + count; ++i)
                entries.append({i, a, EventLogModel::Kind::Update, QString::number(i), {}});
            return entries;
        };
        SignalCounts signalCounts(&log);
        log.append(batch(0, 60));
        QCOMPARE(log.rowCount(), 60);
        log.append(batch(60, 60)); // 20 too many: a tenth or more goes
        QVERIFY(log.rowCount() <= 100);
        QCOMPARE(log.entryAt(0).peerId, QStringLiteral("20"));
        QCOMPARE(log.entryAt(log.rowCount() - 1).peerId, QStringLiteral("119"));
        log.append(batch(120, 250)); // more than fit: the newest 100
        QCOMPARE(log.rowCount(), 100);
        QCOMPARE(log.entryAt(0).peerId, QStringLiteral("270"));
        QCOMPARE(signalCounts.inserted.count(), 3);
        QCOMPARE(signalCounts.removed.count(), 2);
    }
};

QTEST_GUILESS_MAIN(TestPeerTableModel)
#include "tst_peertablemodel.moc"
