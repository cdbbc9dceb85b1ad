#include "eventlogmodel.h"

#include <QDateTime>

EventLogModel::EventLogModel(int capacity, QObject *parent)
    : QAbstractTableModel(parent), m_capacity(qMax(10, capacity))
{}

int EventLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_entries.size());
}

int EventLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString EventLogModel::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Join:
        return tr("joined");
    case Kind::Update:
        return tr("update");
    case Kind::Leave:
        return tr("left");
    case Kind::Connection:
        return tr("connection");
    }
    return {};
}

QVariant EventLogModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || role != Qt::DisplayRole || index.row() >= m_entries.size())
        return {};
    const Entry &entry = m_entries.at(index.row());
    switch (index.column()) {
    case TimeColumn:
        return QDateTime::fromMSecsSinceEpoch(entry.timeMs)
            .toString(QStringLiteral("HH:mm:ss.zzz"));
    case ServerColumn:
        return entry.server;
    case KindColumn:
        return kindName(entry.kind);
    case PeerColumn:
        return entry.peerId;
    case DetailColumn:
        return entry.detail;
    }
    return {};
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *const titles[] = {"Time", "Server", "Event", "Peer", "Detail"};
    return section >= 0 && section < ColumnCount ? tr(titles[section]) : QVariant();
}

void EventLogModel::append(Entry entry)
{
    append(QList<Entry>{std::move(entry)});
}

void EventLogModel::append(QList<Entry> entries)
{
    if (entries.isEmpty())
        return;
    // More than fit: only the newest could stay anyway.
    if (entries.size() > m_capacity)
        entries.remove(0, entries.size() - m_capacity);
    const qsizetype overflow = m_entries.size() + entries.size() - m_capacity;
    if (overflow > 0) {
        // Drop at least a tenth at once: one removal per append would shift the list every time.
        const int drop = static_cast<int>(
            qMin<qsizetype>(m_entries.size(), qMax<qsizetype>(overflow, m_capacity / 10)));
        beginRemoveRows({}, 0, drop - 1);
        m_entries.remove(0, drop);
        endRemoveRows();
    }
    const int first = static_cast<int>(m_entries.size());
    beginInsertRows({}, first, first + static_cast<int>(entries.size()) - 1);
    m_entries.append(std::move(entries));
    endInsertRows();
}

int EventLogModel::count(Kind kind, const QString &peerId) const
{
    return static_cast<int>(
        std::count_if(m_entries.cbegin(), m_entries.cend(),
                      [&](const Entry &e) { return e.kind == kind && e.peerId == peerId; }));
}
