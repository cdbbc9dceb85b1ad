#pragma once

#include "presenceregistry.h"

#include <QElapsedTimer>
#include <QMutex>
#include <QObject>
#include <QTimer>

#include <chrono>

// The presence state of the network: applies accepted publishes, expires silent peers, and
// announces every change as one line of JSON. It knows nothing of HTTP or sockets.
//
// publish() and peersJson() may be called from any thread. Expiry runs in the thread the
// service lives in.
class PresenceService : public QObject
{
    Q_OBJECT

public:
    explicit PresenceService(std::chrono::milliseconds peerTtl, QObject *parent = nullptr);

    // Stores a validated message (a zero `ts` becomes the server's time) and announces it.
    void publish(PresenceMessage message);

    QByteArray peersJson();
    qsizetype peerCount() const;

Q_SIGNALS:
    // Every accepted message and every expiry. Emitted in the publishing thread while the
    // state is locked, so that receivers see events in the order they were accepted: connect
    // with Qt::DirectConnection and return quickly.
    void eventAccepted(const QByteArray &jsonLine);

private:
    void expireSilentPeers();
    void scheduleExpiry();

    const qint64 m_peerTtlMs;
    mutable QMutex m_mutex;
    PresenceRegistry m_registry;
    QElapsedTimer m_clock;
    bool m_expiryScheduled = false; // guarded by m_mutex
    QTimer m_expiryTimer;
};
