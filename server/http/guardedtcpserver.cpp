#include "guardedtcpserver.h"

#include "access/accesscontrol.h"
#include "connectionbudget.h"
#include "httpreply.h"
#include "idleconnectionpark.h"
#include "logcategories.h"
#include "servermetrics.h"
#include "socketio.h"

#include <QTcpSocket>

GuardedTcpServer::GuardedTcpServer(const ConnectionGuard::Limits &limits, ConnectionBudget &budget,
                                   AccessControl &access, ServerMetrics &metrics,
                                   ConnectionGuard::FastLane fastLane, IdleConnectionPark *park,
                                   QObject *parent)
    : QTcpServer(parent), m_limits(limits), m_budget(budget), m_access(access), m_metrics(metrics),
      m_fastLane(std::move(fastLane)), m_park(park)
{}

void GuardedTcpServer::incomingConnection(qintptr socketDescriptor)
{
    if (!m_budget.tryAcquire()) {
        m_metrics.countRefusal(503);
        // Answered without creating a socket object: the cheapest refusal there is. The
        // descriptor is non-blocking, so a client that does not read cannot stall us.
        HttpReply reply = HttpReply::text(503, "server busy: too many connections");
        reply.extraHeaders += "Connection: close\r\nRetry-After: 1\r\n";
        const QByteArray bytes = reply.serialize();
        SocketIo::sendNow(socketDescriptor, bytes.constData(), bytes.size());
        SocketIo::close(socketDescriptor);
        if (m_refusedSinceLastLog++ % 1000 == 0)
            qCWarning(lcHttp, "refusing connections: %d open, the cap (--max-connections)",
                      m_budget.max());
        return;
    }
    QTcpSocket *socket = adopt(socketDescriptor);
    if (!socket)
        return;
    if (const auto refused = m_access.admitConnection(socket->peerAddress())) {
        // Never QtHttpServer's: its request is answered with the refusal, then it is closed.
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        ConnectionGuard::of(socket)->refuseFirstRequest(refused->status, refused->reason,
                                                        refused->headerLines());
        return;
    }
    addPendingConnection(socket);
}

void GuardedTcpServer::takeBackFromPark(qintptr socketDescriptor)
{
    // Admitted when it was opened: not counted against the client's connection rate again.
    if (QTcpSocket *socket = adopt(socketDescriptor))
        addPendingConnection(socket);
}

QTcpSocket *GuardedTcpServer::adopt(qintptr socketDescriptor)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(socketDescriptor)) {
        qCWarning(lcHttp, "cannot adopt a connection: %s", qPrintable(socket->errorString()));
        SocketIo::close(socketDescriptor);
        delete socket;
        m_budget.release();
        return nullptr;
    }
    // Small writes (SSE greetings, 204s) go out at once, as Go's net/http does.
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    ConnectionGuard::Park park;
    if (m_park)
        park = [this](qintptr idle, std::chrono::steady_clock::time_point closeAt) {
            m_park->park(idle, closeAt, this, [this](qintptr back) { takeBackFromPark(back); });
        };
    new ConnectionGuard(socket, m_limits, m_budget, m_metrics, m_fastLane, std::move(park));
    return socket;
}
