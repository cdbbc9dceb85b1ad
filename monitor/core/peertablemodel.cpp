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

QString PeerTableModel::statusText(const PeerRecord &peer) const
{
    return m_unreachable.contains(peer.server) ? tr("unknown") : peer.type;
}

QVariant PeerTableModel::displayValue(const PeerRecord &peer, int column) const
{
    switch (column) {
    case PeerIdColumn:
        return peer.peerId;
    case LabelColumn:
        return peer.label;
    case StatusColumn:
        return statusText(peer);
    case ServerColumn:
        return peer.server;
    case TsColumn:
        return timeText(peer.ts);
    case LastSeenColumn:
        return ageText(m_nowMs - peer.lastSeen);
    case ClientColumn:
        return clientText(peer);
    }
    return {};
}

QString PeerTableModel::clientText(const PeerRecord &peer)
{
    const QString trust = peer.verified ? tr("verified") : tr("unverified");
    return peer.webSocket.value_or(false) ? tr("WebSocket, %1").arg(trust) : trust;
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
    case ClientColumn:
        return tr("Client");
    }
    return {};
}

bool PeerTableModel::lessThan(int leftRow, int rightRow, int column, Qt::CaseSensitivity cs) const
{
    const PeerRecord &left = m_rows.at(leftRow);
    const PeerRecord &right = m_rows.at(rightRow);
    // The same order as sortValue(): numbers for the time columns, text elsewhere.
    switch (column) {
    case PeerIdColumn:
        return QString::compare(left.peerId, right.peerId, cs) < 0;
    case LabelColumn:
        return QString::compare(left.label, right.label, cs) < 0;
    case StatusColumn:
        return QString::compare(statusText(left), statusText(right), cs) < 0;
    case ServerColumn:
        return QString::compare(left.server, right.server, cs) < 0;
    case TsColumn:
        return left.ts < right.ts;
    case LastSeenColumn:
        return -left.lastSeen < -right.lastSeen;
    case ClientColumn:
        return QString::compare(clientText(left), clientText(right), cs) < 0;
    }
    return false;
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

void PeerTableModel::writeRows(QMap<int, PeerRecord> rows)
{
    if (rows.isEmpty())
        return;
    QList<std::pair<int, int>> runs;
    for (auto it = rows.cbegin(); it != rows.cend();) {
        const int first = it.key();
        int last = first;
        while (++it != rows.cend() && it.key() == last + 1)
            last = it.key();
        runs.append({first, last});
    }
    // The peer ID never changes in place (it is half the row's key): leaving its column out means
    // a view sorted by it need not look at the order at all.
    const auto notify = [this](int first, int last) {
        Q_EMIT dataChanged(index(first, LabelColumn), index(last, LastSeenColumn));
    };
    // A sorting proxy re-sorts every row a notification spans: a few scattered rows cost a
    // binary search each when notified run by run, while one span over the whole table would
    // re-sort all 10,000. Past maxChangedRuns the spans cost more than one sort.
    if (runs.size() > maxChangedRuns) {
        for (auto it = rows.begin(); it != rows.end(); ++it)
            m_rows[it.key()] = std::move(it.value());
        notify(runs.constFirst().first, runs.constLast().second);
        return;
    }
    // Run by run, each written just before its notification: the proxy places the run among the
    // other rows by binary search, which needs those rows to still be in the order it knows.
    auto it = rows.begin();
    for (const auto &[first, last] : std::as_const(runs)) {
        for (; it != rows.end() && it.key() <= last; ++it)
            m_rows[it.key()] = std::move(it.value());
        notify(first, last);
    }
}

void PeerTableModel::replaceServerPeers(const QString &server, const QList<PeerRecord> &peers)
{
    QSet<QString> incoming;
    incoming.reserve(peers.size());
    QList<PeerRecord> added;
    QMap<int, PeerRecord> changed;
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
        changed.insert(row, peer);
    }
    writeRows(std::move(changed));
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
    return applyEvents({record}).constFirst().change;
}

QList<PeerTableModel::Outcome> PeerTableModel::applyEvents(const QList<PeerRecord> &records)
{
    QList<Outcome> outcomes;
    outcomes.reserve(records.size());
    // Rows that were there before the batch change in place, written at the end (`changed`, by
    // row); leavers stay until the end so that row numbers hold while the batch is read, and a
    // peer that comes back in the same batch simply keeps its row. Joiners collect in `added`,
    // with a flag for those that left again.
    QSet<int> gone;
    QMap<int, PeerRecord> changed;
    QList<PeerRecord> added;
    QList<bool> addedPresent;
    QHash<QString, qsizetype> addedByKey;
    for (const PeerRecord &record : records) {
        const bool offline = record.type == QLatin1String("offline");
        const QString key = keyOf(record.server, record.peerId);
        Outcome outcome;
        if (const int row = m_rowByKey.value(key, -1); row >= 0) {
            const bool present = !gone.contains(row);
            if (offline) {
                if (present) {
                    gone.insert(row);
                    const auto staged = changed.constFind(row);
                    outcome = {Change::Left,
                               staged != changed.cend() ? staged->label : m_rows.at(row).label};
                    changed.remove(row); // removed anyway
                }
            } else {
                gone.remove(row);
                PeerRecord update = record;
                if (!update.webSocket) // events do not say: the row keeps what it knew
                    update.webSocket =
                        (changed.contains(row) ? changed[row] : m_rows.at(row)).webSocket;
                changed.insert(row, update);
                outcome.change = present ? Change::Updated : Change::Joined;
            }
        } else if (const auto it = addedByKey.constFind(key); it != addedByKey.cend()) {
            const qsizetype i = it.value();
            if (offline) {
                if (addedPresent.at(i)) {
                    addedPresent[i] = false;
                    outcome = {Change::Left, added.at(i).label};
                }
            } else {
                outcome.change = addedPresent.at(i) ? Change::Updated : Change::Joined;
                added[i] = record;
                addedPresent[i] = true;
            }
        } else if (!offline) {
            addedByKey.insert(key, added.size());
            added.append(record);
            addedPresent.append(true);
            outcome.change = Change::Joined;
        }
        outcomes.append(std::move(outcome));
    }

    writeRows(std::move(changed));
    removeRows(gone.values());
    qsizetype joined = 0;
    for (const bool present : std::as_const(addedPresent))
        joined += present ? 1 : 0;
    if (joined > 0) {
        const int first = static_cast<int>(m_rows.size());
        beginInsertRows({}, first, first + static_cast<int>(joined) - 1);
        m_rows.reserve(m_rows.size() + joined);
        for (qsizetype i = 0; i < added.size(); ++i) {
            if (!addedPresent.at(i))
                continue;
            PeerRecord &peer = added[i];
            m_rowByKey.insert(keyOf(peer.server, peer.peerId), static_cast<int>(m_rows.size()));
            ++m_countByServer[peer.server];
            m_rows.append(std::move(peer));
        }
        endInsertRows();
    }
    return outcomes;
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
