#include "monitorsession.h"

#include "eventlogmodel.h"
#include "peercounthistory.h"
#include "peertablemodel.h"

#include <QDateTime>

#include <utility>

MonitorSession::MonitorSession(QObject *parent)
    : QObject(parent), m_peers(new PeerTableModel(this)), m_log(new EventLogModel(5000, this)),
      m_history(new PeerCountHistory(3600, this))
{
    m_ticker.setInterval(1000);
    connect(&m_ticker, &QTimer::timeout, this, &MonitorSession::tick);
    m_ticker.start();
    m_batchTimer.setSingleShot(true);
    m_batchTimer.setInterval(m_batchIntervalMs);
    connect(&m_batchTimer, &QTimer::timeout, this, &MonitorSession::flush);
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

std::optional<Credentials> MonitorSession::credentialsFor(const QString &server, bool failedBefore)
{
    if (!failedBefore) {
        if (auto known = m_credentials.find(QUrl(server)))
            return known;
    }
    if (!m_prompt || m_declined.contains(server))
        return std::nullopt;
    auto typed = m_prompt(server, failedBefore);
    if (!typed) {
        m_declined.insert(server);
        return std::nullopt;
    }
    m_credentials.remember(QUrl(server), *typed);
    return typed;
}

ServerConnection *MonitorSession::addServer(const QUrl &url)
{
    auto *connection = new ServerConnection(url, this);
    if (ServerConnection *existing = this->connection(connection->server())) {
        delete connection;
        return existing;
    }
    connection->setCredentialProvider([this](const QString &server, bool failedBefore) {
        return credentialsFor(server, failedBefore);
    });
    connection->setSilenceTimeout(m_silenceTimeoutMs);
    connection->setBackoff(m_firstBackoffMs, m_maxBackoffMs);
    const QString server = connection->server();
    connect(connection, &ServerConnection::snapshotLoaded, this,
            [this, server](const QList<PeerRecord> &peers) {
                flush();
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
    flush();
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

void MonitorSession::setBatchInterval(int ms)
{
    m_batchIntervalMs = qMax(0, ms);
    m_batchTimer.setInterval(m_batchIntervalMs);
    if (m_batchIntervalMs == 0)
        flush();
}

void MonitorSession::tick()
{
    // The queue is left to its batch: the sample may lag the events by one batch interval,
    // which a chart of minutes cannot show.
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    m_peers->setNow(now);
    for (ServerConnection *connection : std::as_const(m_connections))
        m_history->record(connection->server(), now, m_peers->peerCount(connection->server()));
}

void MonitorSession::onPeerEvent(const PeerRecord &record)
{
    m_pending.append(record);
    if (m_batchIntervalMs == 0)
        flush();
    else if (!m_batchTimer.isActive())
        m_batchTimer.start(); // not restarted by later events: a steady stream must not starve
}

void MonitorSession::flush()
{
    m_batchTimer.stop();
    if (m_pending.isEmpty())
        return;
    const QList<PeerRecord> records = std::exchange(m_pending, {});
    const QList<PeerTableModel::Outcome> outcomes = m_peers->applyEvents(records);
    QList<EventLogModel::Entry> entries;
    entries.reserve(records.size());
    for (qsizetype i = 0; i < records.size(); ++i) {
        const PeerRecord &record = records.at(i);
        const PeerTableModel::Outcome &outcome = outcomes.at(i);
        EventLogModel::Entry entry{record.lastSeen, record.server, EventLogModel::Kind::Update,
                                   record.peerId, record.label};
        // The message type says what the peer did; the table change can differ for events held
        // back during a snapshot (an `online` already in the snapshot is still a join).
        if (record.type == QLatin1String("offline")) {
            const bool left = outcome.change == PeerTableModel::Change::Left;
            entry.kind = EventLogModel::Kind::Leave;
            entry.detail = left ? outcome.leftLabel : tr("(was not listed)");
            if (left)
                Q_EMIT peerLeft(record.server, record.peerId, outcome.leftLabel);
        } else if (record.type == QLatin1String("online") ||
                   outcome.change == PeerTableModel::Change::Joined) {
            entry.kind = EventLogModel::Kind::Join;
            Q_EMIT peerJoined(record.server, record.peerId, record.label);
        }
        entries.append(std::move(entry));
    }
    m_log->append(std::move(entries));
}

void MonitorSession::onStateChanged(ServerConnection *connection, ServerConnection::State state)
{
    flush();
    const QString server = connection->server();
    QString text = ServerConnection::stateName(state);
    if (state == ServerConnection::State::Reconnecting)
        text += tr(" in %1 ms: %2").arg(connection->retryDelay()).arg(connection->lastError());
    else if (state == ServerConnection::State::Connected)
        text += QStringLiteral(" (%1)").arg(connection->startedHow());
    logConnection(server, text);
    m_peers->setServerReachable(server, state == ServerConnection::State::Connected);
    Q_EMIT serverStateChanged(connection);
}

void MonitorSession::logConnection(const QString &server, const QString &text)
{
    m_log->append(
        {QDateTime::currentMSecsSinceEpoch(), server, EventLogModel::Kind::Connection, {}, text});
}
