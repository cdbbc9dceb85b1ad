#pragma once

#include "connectionguard.h"

#include <QTcpServer>

class AccessControl;
class ConnectionBudget;
class IdleConnectionPark;
class ServerMetrics;

// A listening socket handed to QtHttpServer: it keeps the number of open connections within
// the budget (beyond it a connection gets 503 and is closed, so the process never runs out of
// file descriptors, where 6.4's listener would spin), refuses a client opening connections
// faster than its limit (429), and puts a ConnectionGuard on every socket
// before QtHttpServer sees it. Idle keep-alive connections wait in `park` (when given) and come
// back here with their next request, as connections already admitted.
class GuardedTcpServer : public QTcpServer
{
    Q_OBJECT

public:
    GuardedTcpServer(const ConnectionGuard::Limits &limits, ConnectionBudget &budget,
                     AccessControl &access, ServerMetrics &metrics,
                     ConnectionGuard::FastLane fastLane, IdleConnectionPark *park,
                     QObject *parent = nullptr);

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    // Qt's socket for a connection that holds a place in the budget, guarded; nullptr (the
    // connection closed, its place released) if Qt cannot take it.
    QTcpSocket *adopt(qintptr socketDescriptor);
    void takeBackFromPark(qintptr socketDescriptor);

    const ConnectionGuard::Limits m_limits;
    ConnectionBudget &m_budget;
    AccessControl &m_access;
    ServerMetrics &m_metrics;
    const ConnectionGuard::FastLane m_fastLane;
    IdleConnectionPark *const m_park;
    qint64 m_refusedSinceLastLog = 0;
};
