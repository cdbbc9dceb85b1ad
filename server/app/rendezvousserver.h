#pragma once

#include "access/accesscontrol.h"
#include "connectionbudget.h"
#include "dashboardfiles.h"
#include "eventhistory.h"
#include "eventhub.h"
#include "idleconnectionpark.h"
#include "presenceservice.h"
#include "punch/punchhints.h"
#include "serverconfig.h"
#include "servermetrics.h"
#include "websocket/websocketpeers.h"

#include <QHostAddress>
#include <QObject>
#include <QTimer>

#include <memory>
#include <vector>

class HttpWorker;
class Libp2pHost;
class RelayService;
class RendezvousPoint;
class LogSink;
class RedisBackplane;
class ClusterRendezvous;

// One rendezvous server: the presence state, the event fan-out and the HTTP workers, wired
// together and listening on the configured address.
class RendezvousServer : public QObject
{
    Q_OBJECT

public:
    RendezvousServer(const ServerConfig &config, int maxConnections, const LogSink &logs,
                     QObject *parent = nullptr);
    ~RendezvousServer() override;

    // Binds the listening sockets and starts the workers; on failure returns a one-line reason.
    std::optional<QString> listen();

    QString url() const; // http://host:port, with the port actually bound

    // Stops accepting connections and ends every event stream (and a waitForCluster()).
    void stop();
    bool isStopped() const { return m_stopped; }

    ServerMetrics::Gauges gauges() const;

    // With --redis: waits (running the event loop) until the cluster's state is loaded, so that
    // the first requests already see it; false if that took longer than `timeout` or stop()
    // ended the wait.
    bool waitForCluster(std::chrono::milliseconds timeout);

Q_SIGNALS:
    void stopped();

private:
    // With --libp2p-listen: loads or creates the key and starts the host; a one-line error.
    std::optional<QString> startLibp2p();
    // The /relay answer: an operator's relay, else the host's own circuit relay, else none.
    QByteArray relayJson() const;
    // The /rendezvous.json answer while the rendezvous point runs; empty otherwise (404).
    std::function<QByteArray()> rendezvousJson() const;
    // Marks the peer's row on a WebSocket or not: through the cluster when there is one.
    void markWebSocket(const QByteArray &peerId, bool connected);
    // Whether a punch hint would reach any stream, here or in the cluster.
    bool hintsReachAnyone() const;
    // A punch hint for `target`: through the cluster when there is one, else delivered here.
    void deliverHint(const QByteArray &target, const QByteArray &json);
    // To the target's WebSocket if it is here, else to everyone (`alone`) or to this
    // instance's event streams (in a cluster).
    void deliverHintHere(const QByteArray &target, const QByteArray &json, bool alone);

    const ServerConfig m_config;
    const LogSink &m_logs;
    ConnectionBudget m_budget;
    IdleConnectionPark m_idleConnections; // keep-alive connections between requests
    AccessControl m_access;
    PresenceService m_presence;
    EventHub m_events;
    EventHistory m_history; // numbers, keeps and broadcasts every event of m_presence
    WebSocketPeers m_webSockets;
    PunchHints m_punchHints;
    DashboardFiles m_dashboard;
    ServerMetrics m_metrics;
    std::unique_ptr<RedisBackplane> m_backplane;
    std::vector<std::unique_ptr<HttpWorker>> m_workers;
    std::shared_ptr<RelayService> m_relay; // on m_libp2p's thread, unless --relay-disable
    // With the libp2p host: written on its thread, read by the HTTP threads.
    std::shared_ptr<RendezvousPoint> m_rendezvous;
    std::unique_ptr<ClusterRendezvous> m_clusterRendezvous; // with --redis: shares m_rendezvous
    std::unique_ptr<Libp2pHost> m_libp2p; // with --libp2p-listen, on its own thread
    QTimer m_sweeper;                     // of the per-client buckets
    QHostAddress m_address;
    quint16 m_port = 0;
    bool m_stopped = false;
};
