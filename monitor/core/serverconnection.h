#pragma once

#include "credentialstore.h"
#include "peerrecord.h"
#include "sseparser.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <optional>

class QAuthenticator;
class QNetworkAccessManager;
class QNetworkReply;

// Follows one rendezvous server: opens /events?snapshot=1, which starts with the peers online
// and goes on with every event after them, and after a reconnect resumes after the last event
// it had (Last-Event-ID): the missed events come first, and only when the server cannot (it
// restarted, or the monitor was away too long) a fresh snapshot. A server that does neither
// (it does not send X-Goop-Resume) is followed the old way: /events, then /peers.json, with
// the events that arrive meanwhile held back and handed out after it. Any failure (refused,
// closed stream, HTTP error, bad JSON, a stream silent for longer than the heartbeat allows)
// reconnects after a back-off of 250 ms doubling to 8 s.
class ServerConnection : public QObject
{
    Q_OBJECT

public:
    enum class State
    {
        Idle,
        Connecting,
        Connected,
        Reconnecting
    };
    Q_ENUM(State)

    explicit ServerConnection(const QUrl &baseUrl, QObject *parent = nullptr);
    ~ServerConnection() override;

    // The base URL without a trailing slash: the key of this server in the models.
    QString server() const { return m_server; }
    QUrl dashboardUrl() const;

    void start();
    void stop();

    // The server pings every 25 s by default; a stream silent for longer is taken as dead.
    void setSilenceTimeout(int ms);
    int silenceTimeout() const { return m_silenceTimeoutMs; }
    void setBackoff(int firstMs, int maxMs);
    // Asked when the server wants a password (its operators' door: /peers.json with --private).
    void setCredentialProvider(CredentialProvider provider) { m_credentials = std::move(provider); }

    State state() const { return m_state; }
    static QString stateName(State state);
    QString lastError() const { return m_lastError; }
    int retryDelay() const { return m_retryDelayMs; }    // of the pending retry
    qint64 lastEventMs() const { return m_lastEventMs; } // 0 until the first message
    qint64 malformedEvents() const { return m_malformedEvents; }
    // How the current connection started: "resumed, 3 missed events replayed", "from a
    // snapshot"...; empty while not connected.
    QString startedHow() const { return m_startedHow; }
    bool resumed() const { return m_resumed; } // the current connection picked up where one broke
    QByteArray lastEventId() const { return m_lastEventId; }

Q_SIGNALS:
    void stateChanged(ServerConnection::State state);
    // The stream is live and the snapshot is about to be requested (tests publish here to
    // land events between the two).
    void streamOpened();
    // Replaces everything known about this server's peers.
    void snapshotLoaded(const QList<PeerRecord> &peers);
    // One online, update or offline message, in stream order, always after its snapshot.
    void peerEvent(const PeerRecord &record);

private:
    void connectNow();
    void onStreamData();
    void onStreamFinished();
    void onSnapshotFinished();
    void handleEvent(const SseParser::Event &event);
    void handleMarker(const SseParser::Event &event);
    void goLive(const QString &how, bool resumed = false);
    void fail(const QString &reason);
    void signIn(QNetworkReply *reply, QAuthenticator *authenticator);
    void dropReplies();
    void setState(State state);
    QNetworkReply *get(const QString &path, const QByteArray &accept,
                       const QByteArray &lastEventId = {});

    QString m_server;
    CredentialProvider m_credentials;
    bool m_signedIn = false; // credentials were given for the current attempt
    QNetworkAccessManager *m_network;
    QPointer<QNetworkReply> m_stream;
    QPointer<QNetworkReply> m_snapshot;
    SseParser m_parser;
    QList<PeerRecord> m_heldBack; // events that arrived before the snapshot was applied
    bool m_resumable = false;     // the server numbers its events (X-Goop-Resume)
    std::optional<QList<PeerRecord>> m_streamSnapshot; // being received on the stream
    QByteArray m_lastEventId;                          // of the last event handed out
    QString m_startedHow;
    bool m_resumed = false;
    bool m_streamLive = false;
    bool m_snapshotApplied = false;
    bool m_running = false;
    State m_state = State::Idle;
    QString m_lastError;
    QTimer m_retryTimer;
    QTimer m_watchdog;
    int m_silenceTimeoutMs = 60000;
    int m_firstBackoffMs = 250;
    int m_maxBackoffMs = 8000;
    int m_backoffMs = 250;
    int m_retryDelayMs = 0;
    qint64 m_lastEventMs = 0;
    qint64 m_malformedEvents = 0;
};
