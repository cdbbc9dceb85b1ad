#pragma once

#include "connectionguard.h"

#include <QTcpServer>

// The listening socket handed to QtHttpServer: it caps the number of open connections
// (beyond the cap a connection gets 503 and is closed, so the process never runs out of file
// descriptors, where 6.4's listener would spin) and puts a ConnectionGuard on every socket
// before QtHttpServer sees it.
class GuardedTcpServer : public QTcpServer
{
    Q_OBJECT

public:
    GuardedTcpServer(const ConnectionGuard::Limits &limits, int maxConnections,
                     QObject *parent = nullptr);

    int connectionCount() const { return m_connectionCount; }

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    const ConnectionGuard::Limits m_limits;
    const int m_maxConnections;
    int m_connectionCount = 0;
    qint64 m_refusedSinceLastLog = 0;
};
