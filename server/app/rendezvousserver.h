#pragma once

#include "dashboardfiles.h"
#include "eventhub.h"
#include "presenceservice.h"
#include "serverconfig.h"

#include <QObject>

class ApiServer;
class GuardedTcpServer;
class LogSink;

// One rendezvous server: the presence state, the event fan-out and the HTTP front, wired
// together and listening on the configured address.
class RendezvousServer : public QObject
{
    Q_OBJECT

public:
    RendezvousServer(const ServerConfig &config, int maxConnections, const LogSink &logs,
                     QObject *parent = nullptr);
    ~RendezvousServer() override;

    // Binds the listening socket; on failure returns a one-line reason.
    std::optional<QString> listen();

    QString url() const; // http://host:port, with the port actually bound

    // Ends every event stream and stops accepting connections.
    void stop();

private:
    const ServerConfig m_config;
    const int m_maxConnections;
    PresenceService m_presence;
    EventHub m_events;
    DashboardFiles m_dashboard;
    ApiServer *m_api;
    GuardedTcpServer *m_listener = nullptr;
};
