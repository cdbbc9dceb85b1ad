#pragma once

#include "presenceregistry.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <chrono>

// The presence state of the network: applies accepted publishes, expires silent peers, and
// announces every change as one line of JSON. It knows nothing of HTTP or sockets.
class PresenceService : public QObject
{
    Q_OBJECT

public:
    explicit PresenceService(std::chrono::milliseconds peerTtl, QObject *parent = nullptr);

    // Stores a validated message (a zero `ts` becomes the server's time) and announces it.
    void publish(PresenceMessage message);

    const QByteArray &peersJson() { return m_registry.peersJson(); }
    qsizetype peerCount() const { return m_registry.size(); }

Q_SIGNALS:
    // Every accepted message and every expiry, in order.
    void eventAccepted(const QByteArray &jsonLine);

private:
    void expireSilentPeers();
    void scheduleExpiry();

    const qint64 m_peerTtlMs;
    PresenceRegistry m_registry;
    QElapsedTimer m_clock;
    QTimer m_expiryTimer;
};
