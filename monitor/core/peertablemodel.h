#pragma once

#include "peerrecord.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QMap>
#include <QSet>

// The peers of every followed server, one row per (server, peer). Rows are updated in place so
// that selection and scroll position survive the update stream; the "last seen" column ticks
// with setNow() without touching the sort role, so a sorted view does not re-sort every second.
// Live events come in batches (applyEvents): at 200 events/s a signal per event made the views
// re-sort and repaint 200 times a second, a batch costs one notification of each kind.
class PeerTableModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        PeerIdColumn,
        LabelColumn,
        StatusColumn,
        ServerColumn,
        TsColumn,
        LastSeenColumn,
        ClientColumn, // on a WebSocket, verified
        ColumnCount
    };
    enum Role
    {
        SortRole = Qt::UserRole + 1, // numbers for the time columns, text elsewhere
    };
    enum class Change
    {
        Joined,
        Updated,
        Left,
        Ignored
    };

    // What one event of a batch did, and for a peer that left the label its row had (the event
    // itself carries none).
    struct Outcome
    {
        Change change = Change::Ignored;
        QString leftLabel;
    };

    explicit PeerTableModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    // Makes `peers` the rows of `server`: existing rows are updated, missing ones removed, new
    // ones appended in one block.
    void replaceServerPeers(const QString &server, const QList<PeerRecord> &peers);
    Change applyEvent(const PeerRecord &record);
    // Applies `records` in order with the same result as one applyEvent() each, but notifies
    // per batch: one dataChanged per contiguous run of updated rows (one span past
    // maxChangedRuns), leaving out the peer ID column, which never changes in place, so that a
    // view sorted by it need not re-sort; one rowsRemoved per contiguous run of leavers; one
    // rowsInserted for all joiners. A peer that joins and leaves within the batch never becomes
    // a row.
    QList<Outcome> applyEvents(const QList<PeerRecord> &records);
    void removeServer(const QString &server);
    // Rows of an unreachable server stay but show status "unknown": we cannot vouch for them.
    void setServerReachable(const QString &server, bool reachable);

    void setNow(qint64 ms);
    qint64 now() const { return m_nowMs; }

    int rowOf(const QString &server, const QString &peerId) const;
    const PeerRecord &peerAt(int row) const { return m_rows.at(row); }
    int peerCount(const QString &server) const { return m_countByServer.value(server); }

    // The order the sort role gives, read straight from the rows: a proxy sorting 10,000 rows
    // would otherwise build two QVariants per comparison.
    bool lessThan(int leftRow, int rightRow, int column, Qt::CaseSensitivity cs) const;

    // Updated rows are notified one contiguous run at a time up to this many runs per batch, in
    // one span past it.
    static constexpr int maxChangedRuns = 128;

    static QString ageText(qint64 ms);
    static QString peerCountText(int count); // "1 peer", "2 peers"

private:
    static QString keyOf(const QString &server, const QString &peerId);
    void reindexFrom(int row);
    void removeRows(QList<int> rows); // any order
    // Replaces rows in place (row -> its new record) and tells the views.
    void writeRows(QMap<int, PeerRecord> rows);
    QString statusText(const PeerRecord &peer) const;
    static QString clientText(const PeerRecord &peer);
    QVariant sortValue(const PeerRecord &peer, int column) const;
    QVariant displayValue(const PeerRecord &peer, int column) const;

    QList<PeerRecord> m_rows;
    QHash<QString, int> m_rowByKey;
    QHash<QString, int> m_countByServer;
    QSet<QString> m_unreachable;
    qint64 m_nowMs;
};
