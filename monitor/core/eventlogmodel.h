#pragma once

#include <QAbstractTableModel>
#include <QList>

// The event log pane: joins, updates, leaves and connection changes, oldest first, bounded so
// that hours of 200 events/s do not grow memory without end.
class EventLogModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        TimeColumn,
        ServerColumn,
        KindColumn,
        PeerColumn,
        DetailColumn,
        ColumnCount
    };
    enum class Kind
    {
        Join,
        Update,
        Leave,
        Connection
    };

    struct Entry
    {
        qint64 timeMs = 0;
        QString server;
        Kind kind = Kind::Connection;
        QString peerId;
        QString detail;
    };

    explicit EventLogModel(int capacity = 5000, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    void append(Entry entry);
    // One insertion (and at most one removal of the oldest) for the whole batch, so that the
    // view follows 200 events/s with a few updates a second.
    void append(QList<Entry> entries);
    const Entry &entryAt(int row) const { return m_entries.at(row); }
    // How many entries of `kind` about `peerId` are in the log (tests and the bench use it).
    int count(Kind kind, const QString &peerId) const;

    static QString kindName(Kind kind);

private:
    QList<Entry> m_entries;
    int m_capacity;
};
