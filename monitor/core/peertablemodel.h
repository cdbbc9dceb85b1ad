#pragma once

#include "peerrecord.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QSet>

// The peers of every followed server, one row per (server, peer). Rows are updated in place so
// that selection and scroll position survive the update stream; the "last seen" column ticks
// with setNow() without touching the sort role, so a sorted view does not re-sort every second.
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

    explicit PeerTableModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    // Makes `peers` the rows of `server`: existing rows are updated, missing ones removed, new
    // ones appended in one block.
    void replaceServerPeers(const QString &server, const QList<PeerRecord> &peers);
    Change applyEvent(const PeerRecord &record);
    void removeServer(const QString &server);
    // Rows of an unreachable server stay but show status "unknown": we cannot vouch for them.
    void setServerReachable(const QString &server, bool reachable);

    void setNow(qint64 ms);
    qint64 now() const { return m_nowMs; }

    int rowOf(const QString &server, const QString &peerId) const;
    const PeerRecord &peerAt(int row) const { return m_rows.at(row); }
    int peerCount(const QString &server) const { return m_countByServer.value(server); }

    static QString ageText(qint64 ms);
    static QString peerCountText(int count); // "1 peer", "2 peers"

private:
    static QString keyOf(const QString &server, const QString &peerId);
    void reindexFrom(int row);
    void removeRows(QList<int> rows); // any order
    QVariant sortValue(const PeerRecord &peer, int column) const;
    QVariant displayValue(const PeerRecord &peer, int column) const;

    QList<PeerRecord> m_rows;
    QHash<QString, int> m_rowByKey;
    QHash<QString, int> m_countByServer;
    QSet<QString> m_unreachable;
    qint64 m_nowMs;
};
