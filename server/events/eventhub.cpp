#include "eventhub.h"

#include "logcategories.h"
#include "sseframe.h"

#include <QTcpSocket>

EventHub::EventHub(qint64 maxBacklogBytes, std::chrono::milliseconds heartbeat, QObject *parent)
    : QObject(parent), m_maxBacklogBytes(maxBacklogBytes)
{
    // One timer for all streams, like the Go server's per-stream ticker: a ping every period.
    connect(&m_heartbeat, &QTimer::timeout, this, [this] { send(SseFrame::ping); });
    m_heartbeat.start(heartbeat);
}

void EventHub::subscribe(QTcpSocket *socket)
{
    // Whichever comes first: the client goes away, or QtHttpServer deletes the socket.
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] { unsubscribe(socket); });
    connect(socket, &QObject::destroyed, this, [this, socket] { unsubscribe(socket); });
    m_subscribers.insert(socket);
    qCDebug(lcSse, "subscriber %s:%u connected (%d streams)",
            qPrintable(socket->peerAddress().toString()), socket->peerPort(), subscriberCount());
}

void EventHub::broadcast(const QByteArray &frame)
{
    send(frame);
}

void EventHub::send(const QByteArray &frame)
{
    QList<QTcpSocket *> tooSlow;
    for (QTcpSocket *socket : std::as_const(m_subscribers)) {
        if (socket->bytesToWrite() + frame.size() > m_maxBacklogBytes)
            tooSlow.append(socket);
        else
            socket->write(frame);
    }
    for (QTcpSocket *socket : tooSlow) {
        ++m_dropped;
        qCWarning(lcSse, "dropping subscriber %s:%u: %lld bytes unsent (it reconnects)",
                  qPrintable(socket->peerAddress().toString()), socket->peerPort(),
                  static_cast<long long>(socket->bytesToWrite()));
        unsubscribe(socket);
        socket->abort();
    }
}

void EventHub::closeAll()
{
    const QList<QTcpSocket *> sockets = m_subscribers.values();
    for (QTcpSocket *socket : sockets) {
        unsubscribe(socket);
        socket->disconnectFromHost();
    }
}

void EventHub::unsubscribe(QTcpSocket *socket)
{
    if (!m_subscribers.remove(socket))
        return;
    socket->disconnect(this);
    qCDebug(lcSse, "subscriber gone (%d streams)", subscriberCount());
}
