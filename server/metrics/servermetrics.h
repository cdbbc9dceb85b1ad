#pragma once

#include "access/accesscontrol.h"
#include "history/eventhistory.h"
#include "libp2p/relay/relaystats.h"
#include "presencemessage.h"

#include <QByteArray>
#include <QByteArrayView>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

// The server's counters, shared by every thread (relaxed atomics in fixed arrays: nothing to
// lock on the request path), and their rendering in the Prometheus text format for /metrics.
class ServerMetrics
{
public:
    enum class Route
    {
        Publish,
        Events,
        Peers,
        Health,
        Logs,
        Metrics,
        WebSocket,
        Dashboard,
        Other,
        Count
    };
    using PublishRejection = PresenceMessage::Error::Kind;
    static constexpr size_t publishRejectionKinds = size_t(PublishRejection::AddrTooLong) + 1;

    // Values read from elsewhere when /metrics is asked for.
    struct Gauges
    {
        qint64 peersOnline = 0;
        qint64 peersUpdate = 0;
        qint64 subscribers = 0;
        qint64 connections = 0;
        qint64 idleConnectionsParked = 0; // of `connections`
        qint64 maxConnections = 0;
        qint64 subscribersDropped = 0;
        qint64 eventsDelivered = 0;
        qint64 expiries = 0;
        qint64 backlogBytes = 0;    // held for streams that fall behind
        qint64 maxBacklogBytes = 0; // --max-backlog-total
        EventHistory::Stats history;

        qint64 webSockets = 0;
        qint64 webSocketsDropped = 0;
        qint64 webSocketFramesSent = 0;       // events and hints, one per WebSocket
        qint64 webSocketMessagesReceived = 0; // presence messages in text frames
        qint64 punchHints = 0;
        qint64 webSocketMessagesLimited = 0; // dropped by a per-client publish limit

        AccessControl::Counts access; // per-client limits

        // With --redis: the backplane's state and counters (RedisBackplane::gauges()).
        struct Cluster
        {
            bool connected = false; // following the cluster's stream
            quint64 published = 0;  // local publishes sent to Redis
            quint64 received = 0;   // other instances' events applied
            quint64 expired = 0;    // expiries seen on the stream (from any instance)
            quint64 dropped = 0;    // publishes held through an outage beyond the outbox's cap
            quint64 errors = 0;     // error replies from Redis
            quint64 outages = 0;    // connections lost or never made
            quint64 resyncs = 0;    // snapshots loaded
        };
        std::optional<Cluster> cluster;

        // With the libp2p host: its rendezvous point (RendezvousServer::gauges()).
        struct Rendezvous
        {
            qint64 registrations = 0;
            qint64 namespaces = 0;
            quint64 registers = 0;
            quint64 unregisters = 0;
            quint64 discovers = 0;
            std::vector<std::pair<QByteArray, quint64>> refusals; // by status, e.g. E_INVALID_TTL
        };
        std::optional<Rendezvous> rendezvous;

        // With the libp2p host: its connections and its circuit relay (not with --relay-disable).
        struct Libp2p
        {
            qint64 connections = 0;
            std::optional<RelayStats> relay;
        };
        std::optional<Libp2p> libp2p;
    };

    ServerMetrics();

    void countRequest(Route route, int status, std::chrono::nanoseconds duration);
    // A request refused before routing (malformed, too large, too slow, over the cap).
    void countRefusal(int status);
    void countPublishAccepted() { m_publishesAccepted.fetch_add(1, std::memory_order_relaxed); }
    void countPublishRejected(PublishRejection reason);
    void countWebSocketProbe() { m_webSocketProbes.fetch_add(1, std::memory_order_relaxed); }

    static Route routeFor(QByteArrayView path);

    QByteArray render(const Gauges &gauges) const;

private:
    static constexpr std::array<int, 17> trackedStatuses = {
        101, 200, 204, 304, 400, 401, 404, 405, 408, 411, 413, 417, 425, 429, 431, 503, 505};
    static constexpr std::array<double, 11> bucketBounds = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0};
    static constexpr size_t routeCount = size_t(Route::Count);
    static constexpr size_t statusSlots = trackedStatuses.size() + 1; // + "other"

    static size_t statusSlot(int status);

    std::array<std::array<std::atomic<quint64>, statusSlots>, routeCount> m_requests{};
    std::array<std::array<std::atomic<quint64>, bucketBounds.size() + 1>, routeCount> m_buckets{};
    std::array<std::atomic<quint64>, routeCount> m_durationNanoseconds{};
    std::array<std::atomic<quint64>, statusSlots> m_refusals{};
    std::array<std::atomic<quint64>, publishRejectionKinds> m_publishesRejected{};
    std::atomic<quint64> m_publishesAccepted{0};
    std::atomic<quint64> m_webSocketProbes{0};
    const std::chrono::steady_clock::time_point m_started;
    const qint64 m_startedWallSeconds;
};
