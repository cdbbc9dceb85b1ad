#include "peertablemodel.h"

#include <QDateTime>

#include <algorithm>

PeerTableModel::PeerTableModel(QObject *parent)
    : QAbstractTableModel(parent), m_nowMs(QDateTime::currentMSecsSinceEpoch())
{}

int PeerTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int PeerTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString PeerTableModel::keyOf(const QString &server, const QString &peerId)
{
    return server + QLatin1Char('\n') + peerId;
}

QString PeerTableModel::ageText(qint64 ms)
{
    const qint64 seconds = qMax<qint64>(0, ms / 1000);
    if (seconds < 60)
        return tr("%1 s ago").arg(seconds);
    if (seconds < 3600)
        return tr("%1 min ago").arg(seconds / 60);
    return tr("%1 h ago").arg(seconds / 3600);
}

QString PeerTableModel::peerCountText(int count)
{
    return count == 1 ? tr("1 peer") : tr("%1 peers").arg(count);
}

static QString timeText(qint64 ms)
{
    if (ms <= 0)
        return {};
    const QDateTime time = QDateTime::fromMSecsSinceEpoch(ms);
    if (time.date() == QDate::currentDate())
        return time.toString(QStringLiteral("HH:mm:ss"));
    return time.toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

QVariant PeerTableModel::displayValue(const PeerRecord &peer, int column) const
{
    switch (column) {
    case PeerIdColumn:
        return peer.peerId;
    case LabelColumn:
        return peer.label;
    case StatusColumn:
        return m_unreachable.contains(peer.server) ? tr("unknown") : peer.type;
    case ServerColumn:
        return peer.server;
    case TsColumn:
        return timeText(peer.ts);
    case LastSeenColumn:
        return ageText(m_nowMs - peer.lastSeen);
    }
    return {};
}

QVariant PeerTableModel::sortValue(const PeerRecord &peer, int column) const
{
    switch (column) {
    case TsColumn:
        return peer.ts;
    case LastSeenColumn:
        // Most recent first when sorted ascending: a smaller age is a larger stamp.
        return -peer.lastSeen;
    default:
        return displayValue(peer, column);
    }
}

QVariant PeerTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const PeerRecord &peer = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return displayValue(peer, index.column());
    case SortRole:
        return sortValue(peer, index.column());
    case Qt::ToolTipRole:
        if (index.column() == TsColumn || index.column() == LastSeenColumn) {
            const qint64 ms = index.column() == TsColumn ? peer.ts : peer.lastSeen;
            return QDateTime::fromMSecsSinceEpoch(ms).toString(Qt::ISODateWithMs);
        }
        return displayValue(peer, index.column());
    default:
        return {};
    }
}

QVariant PeerTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case PeerIdColumn:
        return tr("Peer ID");
    case LabelColumn:
        return tr("Label");
    case StatusColumn:
        return tr("Status");
    case ServerColumn:
        return tr("Server");
    case TsColumn:
        return tr("ts");
    case LastSeenColumn:
        return tr("Last seen");
    }
    return {};
}

int PeerTableModel::rowOf(const QString &server, const QString &peerId) const
{
    return m_rowByKey.value(keyOf(server, peerId), -1);
}

void PeerTableModel::reindexFrom(int row)
{
    for (int i = row; i < m_rows.size(); ++i)
        m_rowByKey.insert(keyOf(m_rows.at(i).server, m_rows.at(i).peerId), i);
}

void PeerTableModel::removeRows(QList<int> rows)
{
    if (rows.isEmpty())
        return;
    std::sort(rows.begin(), rows.end(), std::greater<int>());
    // Contiguous runs go out in one notification each, highest first so indices stay valid.
    for (int i = 0; i < rows.size();) {
        int last = rows.at(i);
        int first = last;
        ++i;
        while (i < rows.size() && rows.at(i) == first - 1)
            first = rows.at(i++);
        beginRemoveRows({}, first, last);
        for (int row = first; row <= last; ++row) {
            const PeerRecord &peer = m_rows.at(row);
            m_rowByKey.remove(keyOf(peer.server, peer.peerId));
            if (--m_countByServer[peer.server] == 0)
                m_countByServer.remove(peer.server);
        }
        m_rows.remove(first, last - first + 1);
        endRemoveRows();
    }
    reindexFrom(rows.last());
}

void PeerTableModel::replaceServerPeers(const QString &server, const QList<PeerRecord> &peers)
{
    QSet<QString> incoming;
    incoming.reserve(peers.size());
    QList<PeerRecord> added;
    for (const PeerRecord &peer : peers) {
        const QString key = keyOf(server, peer.peerId);
        if (incoming.contains(key))
            continue;
        incoming.insert(key);
        const int row = m_rowByKey.value(key, -1);
        if (row < 0) {
            added.append(peer);
            continue;
        }
        m_rows[row] = peer;
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    }
    QList<int> gone;
    for (int row = 0; row < m_rows.size(); ++row) {
        const PeerRecord &peer = m_rows.at(row);
        if (peer.server == server && !incoming.contains(keyOf(server, peer.peerId)))
            gone.append(row);
    }
    removeRows(gone);
    if (!added.isEmpty()) {
        const int first = static_cast<int>(m_rows.size());
        beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
        m_rows.append(added);
        reindexFrom(first);
        m_countByServer[server] += static_cast<int>(added.size());
        endInsertRows();
    }
}

PeerTableModel::Change PeerTableModel::applyEvent(const PeerRecord &record)
{
    const int row = rowOf(record.server, record.peerId);
    if (record.type == QLatin1String("offline")) {
        if (row < 0)
            return Change::Ignored;
        removeRows({row});
        return Change::Left;
    }
    if (row >= 0) {
        m_rows[row] = record;
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        return Change::Updated;
    }
    const int last = static_cast<int>(m_rows.size());
    beginInsertRows({}, last, last);
    m_rows.append(record);
    m_rowByKey.insert(keyOf(record.server, record.peerId), last);
    ++m_countByServer[record.server];
    endInsertRows();
    return Change::Joined;
}

void PeerTableModel::removeServer(const QString &server)
{
    QList<int> rows;
    for (int row = 0; row < m_rows.size(); ++row) {
        if (m_rows.at(row).server == server)
            rows.append(row);
    }
    removeRows(rows);
    m_unreachable.remove(server);
}

void PeerTableModel::setServerReachable(const QString &server, bool reachable)
{
    if (reachable == !m_unreachable.contains(server))
        return;
    if (reachable)
        m_unreachable.remove(server);
    else
        m_unreachable.insert(server);
    // One notification for the column: cheaper than one per row of that server.
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, StatusColumn),
                           index(static_cast<int>(m_rows.size()) - 1, StatusColumn));
}

void PeerTableModel::setNow(qint64 ms)
{
    m_nowMs = ms;
    if (m_rows.isEmpty())
        return;
    // Display only: the sort role (the stamp itself) did not change, so proxies need not re-sort.
    Q_EMIT dataChanged(index(0, LastSeenColumn),
                       index(static_cast<int>(m_rows.size()) - 1, LastSeenColumn),
                       {Qt::DisplayRole});
}
