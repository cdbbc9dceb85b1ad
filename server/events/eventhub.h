#pragma once

#include <QByteArray>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <chrono>

class QTcpSocket;

// The SSE fan-out: every event frame goes to every subscriber, serialized once. A subscriber
// that stops reading is disconnected once its unsent bytes exceed the backlog cap (it will
// reconnect and reload /peers.json); one that keeps up never loses an event.
class EventHub : public QObject
{
    Q_OBJECT

public:
    EventHub(qint64 maxBacklogBytes, std::chrono::milliseconds heartbeat,
             QObject *parent = nullptr);

    // Takes over a socket whose response head and `: ok` have been written.
    void subscribe(QTcpSocket *socket);

    // Sends `frame` (a complete SSE frame) to every subscriber.
    void broadcast(const QByteArray &frame);

    // Ends every stream (on shutdown): pending frames are flushed, then the sockets closed.
    void closeAll();

    int subscriberCount() const { return static_cast<int>(m_subscribers.size()); }
    qint64 droppedCount() const { return m_dropped; }

private:
    void send(const QByteArray &frame);
    void unsubscribe(QTcpSocket *socket);

    const qint64 m_maxBacklogBytes;
    QSet<QTcpSocket *> m_subscribers;
    QTimer m_heartbeat;
    qint64 m_dropped = 0;
};
