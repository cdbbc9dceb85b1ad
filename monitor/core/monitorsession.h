#pragma once

#include "serverconnection.h"

#include <QList>
#include <QObject>
#include <QSet>
#include <QTimer>

class EventLogModel;
class PeerCountHistory;
class PeerTableModel;

// Everything the window shows, without the window: the followed servers and the models their
// snapshots and events feed. The UI only reads the models and calls addServer/removeServer.
// Live events are queued and applied in batches (every 200 ms by default): at 200 events/s the
// views cost a few milliseconds per model notification, so one per batch instead of one per
// event is what keeps the window responsive. Anything else that changes the rows (a snapshot,
// a state change, removing a server) applies the queue first, so the order the connection gave
// (snapshot, then its events) is kept.
class MonitorSession : public QObject
{
    Q_OBJECT

public:
    explicit MonitorSession(QObject *parent = nullptr);
    ~MonitorSession() override;

    // Starts following `url`; returns the existing connection if it is followed already.
    ServerConnection *addServer(const QUrl &url);
    void removeServer(const QString &server);
    QList<ServerConnection *> connections() const { return m_connections; }
    ServerConnection *connection(const QString &server) const;

    // Credentials for servers behind the operators' door: a credentials file's, then what
    // `prompt` (the window's password dialog) returns, kept for the session. A server whose
    // prompt was cancelled is not asked again.
    CredentialStore &credentials() { return m_credentials; }
    void setPasswordPrompt(CredentialProvider prompt) { m_prompt = std::move(prompt); }

    // Applies to the servers followed now and later (tests use short values).
    void setSilenceTimeout(int ms);
    void setBackoff(int firstMs, int maxMs);

    PeerTableModel *peers() const { return m_peers; }
    EventLogModel *log() const { return m_log; }
    PeerCountHistory *history() const { return m_history; }

    // Advances the "last seen" ages and records a peer-count sample; runs once a second.
    void tick();

    // 0 applies every event as it arrives.
    void setBatchInterval(int ms);
    int batchInterval() const { return m_batchIntervalMs; }
    // Applies the queued events now.
    void flush();
    int pendingEvents() const { return static_cast<int>(m_pending.size()); }

Q_SIGNALS:
    void serverAdded(ServerConnection *connection);
    void serverRemoved(const QString &server);
    void serverStateChanged(ServerConnection *connection);
    void peerJoined(const QString &server, const QString &peerId, const QString &label);
    void peerLeft(const QString &server, const QString &peerId, const QString &label);

private:
    void onPeerEvent(const PeerRecord &record);
    void onStateChanged(ServerConnection *connection, ServerConnection::State state);
    void logConnection(const QString &server, const QString &text);

    std::optional<Credentials> credentialsFor(const QString &server, bool failedBefore);

    QList<ServerConnection *> m_connections;
    CredentialStore m_credentials;
    CredentialProvider m_prompt;
    QSet<QString> m_declined; // servers whose password prompt was cancelled
    PeerTableModel *m_peers;
    EventLogModel *m_log;
    PeerCountHistory *m_history;
    QTimer m_ticker;
    QTimer m_batchTimer;
    QList<PeerRecord> m_pending;
    int m_batchIntervalMs = 200;
    int m_silenceTimeoutMs = 60000;
    int m_firstBackoffMs = 250;
    int m_maxBackoffMs = 8000;
};
