#include "monitorsession.h"

#include "eventlogmodel.h"
#include "peercounthistory.h"
#include "peertablemodel.h"

#include <QDateTime>

MonitorSession::MonitorSession(QObject *parent)
    : QObject(parent), m_peers(new PeerTableModel(this)), m_log(new EventLogModel(5000, this)),
      m_history(new PeerCountHistory(3600, this))
{
    m_ticker.setInterval(1000);
    connect(&m_ticker, &QTimer::timeout, this, &MonitorSession::tick);
    m_ticker.start();
}

MonitorSession::~MonitorSession()
{
    // The connections are children and go with us; stop them first so that no signal reaches
    // models being destroyed.
    for (ServerConnection *connection : std::as_const(m_connections))
        connection->disconnect(this);
}

ServerConnection *MonitorSession::connection(const QString &server) const
{
    for (ServerConnection *connection : m_connections) {
        if (connection->server() == server)
            return connection;
    }
    return nullptr;
}

ServerConnection *MonitorSession::addServer(const QUrl &url)
{
    auto *connection = new ServerConnection(url, this);
    if (ServerConnection *existing = this->connection(connection->server())) {
        delete connection;
        return existing;
    }
    connection->setSilenceTimeout(m_silenceTimeoutMs);
    connection->setBackoff(m_firstBackoffMs, m_maxBackoffMs);
    const QString server = connection->server();
    connect(connection, &ServerConnection::snapshotLoaded, this,
            [this, server](const QList<PeerRecord> &peers) {
                m_peers->replaceServerPeers(server, peers);
                m_peers->setServerReachable(server, true);
                logConnection(server,
                              tr("snapshot: %n peer(s)", nullptr, static_cast<int>(peers.size())));
            });
    connect(connection, &ServerConnection::peerEvent, this, &MonitorSession::onPeerEvent);
    connect(
        connection, &ServerConnection::stateChanged, this,
        [this, connection](ServerConnection::State state) { onStateChanged(connection, state); });
    m_connections.append(connection);
    Q_EMIT serverAdded(connection);
    connection->start();
    return connection;
}

void MonitorSession::removeServer(const QString &server)
{
    ServerConnection *connection = this->connection(server);
    if (!connection)
        return;
    m_connections.removeOne(connection);
    connection->disconnect(this);
    connection->stop();
    connection->deleteLater();
    m_peers->removeServer(server);
    m_history->forget(server);
    Q_EMIT serverRemoved(server);
}

void MonitorSession::setSilenceTimeout(int ms)
{
    m_silenceTimeoutMs = ms;
    for (ServerConnection *connection : std::as_const(m_connections))
        connection->setSilenceTimeout(ms);
}

void MonitorSession::setBackoff(int firstMs, int maxMs)
{
    m_firstBackoffMs = firstMs;
    m_maxBackoffMs = maxMs;
    for (ServerConnection *connection : std::as_const(m_connections))
        connection->setBackoff(firstMs, maxMs);
}

void MonitorSession::tick()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    m_peers->setNow(now);
    for (ServerConnection *connection : std::as_const(m_connections))
        m_history->record(connection->server(), now, m_peers->peerCount(connection->server()));
}

void MonitorSession::onPeerEvent(const PeerRecord &record)
{
    // The label of a leaving peer is only known from its row, so read it before the event.
    const int row = m_peers->rowOf(record.server, record.peerId);
    const QString label = row >= 0 ? m_peers->peerAt(row).label : record.label;
    EventLogModel::Entry entry{record.lastSeen, record.server, EventLogModel::Kind::Update,
                               record.peerId, record.label};
    const PeerTableModel::Change change = m_peers->applyEvent(record);
    // The message type says what the peer did; the table change can differ for events held
    // back during a snapshot (an `online` already in the snapshot is still a join).
    if (record.type == QLatin1String("offline")) {
        entry.kind = EventLogModel::Kind::Leave;
        entry.detail = change == PeerTableModel::Change::Left ? label : tr("(was not listed)");
        if (change == PeerTableModel::Change::Left)
            Q_EMIT peerLeft(record.server, record.peerId, label);
    } else if (record.type == QLatin1String("online") || change == PeerTableModel::Change::Joined) {
        entry.kind = EventLogModel::Kind::Join;
        Q_EMIT peerJoined(record.server, record.peerId, record.label);
    }
    m_log->append(std::move(entry));
}

void MonitorSession::onStateChanged(ServerConnection *connection, ServerConnection::State state)
{
    const QString server = connection->server();
    QString text = ServerConnection::stateName(state);
    if (state == ServerConnection::State::Reconnecting)
        text += tr(" in %1 ms: %2").arg(connection->retryDelay()).arg(connection->lastError());
    logConnection(server, text);
    m_peers->setServerReachable(server, state == ServerConnection::State::Connected);
    Q_EMIT serverStateChanged(connection);
}

void MonitorSession::logConnection(const QString &server, const QString &text)
{
    m_log->append(
        {QDateTime::currentMSecsSinceEpoch(), server, EventLogModel::Kind::Connection, {}, text});
}
