#include "servermetrics.h"

#include "goopversion.h"
#include "processstats.h"

#include <QDateTime>

namespace {

constexpr const char *routeLabels[] = {"/publish", "/events",    "/peers.json",
                                       "/healthz", "/logs.json", "/metrics",
                                       "/ws",      "dashboard",  "other"};
// In the order of PresenceMessage::Error::Kind.
constexpr const char *rejectionLabels[] = {"bad_json",         "missing_fields",   "unknown_type",
                                           "peer_id_too_long", "content_too_long", "email_too_long",
                                           "too_many_addrs",   "addr_too_long"};
static_assert(std::size(rejectionLabels) == ServerMetrics::publishRejectionKinds);

void header(QByteArray &out, const char *name, const char *type, const char *help)
{
    out.append("# HELP ")
        .append(name)
        .append(' ')
        .append(help)
        .append("\n# TYPE ")
        .append(name)
        .append(' ')
        .append(type)
        .append('\n');
}

void sample(QByteArray &out, const char *name, QByteArrayView labels, double value)
{
    out.append(name);
    if (!labels.isEmpty())
        out.append('{').append(labels).append('}');
    out.append(' ').append(QByteArray::number(value, 'g', 15)).append('\n');
}

void counter(QByteArray &out, const char *name, const char *help, double value)
{
    header(out, name, "counter", help);
    sample(out, name, {}, value);
}

void renderLibp2p(QByteArray &out, const ServerMetrics::Gauges::Libp2p &libp2p)
{
    header(out, "goop_libp2p_connections", "gauge", "Connections of the libp2p host.");
    sample(out, "goop_libp2p_connections", {}, double(libp2p.connections));
    if (!libp2p.relay)
        return;
    const RelayStats &relay = *libp2p.relay;
    header(out, "goop_relay_reservations", "gauge", "Reservations held by the circuit relay.");
    sample(out, "goop_relay_reservations", {}, double(relay.reservations));
    header(out, "goop_relay_circuits", "gauge", "Relayed circuits open or being opened.");
    sample(out, "goop_relay_circuits", {}, double(relay.circuits));
    header(out, "goop_relay_reservations_total", "counter", "Reservation requests, by outcome.");
    sample(out, "goop_relay_reservations_total", "result=\"granted\"",
           double(relay.reservationsGranted));
    sample(out, "goop_relay_reservations_total", "result=\"refused\"",
           double(relay.reservationsRefused));
    header(out, "goop_relay_circuits_total", "counter",
           "Circuit requests, by outcome (refused: by the relay or the target).");
    sample(out, "goop_relay_circuits_total", "result=\"opened\"", double(relay.circuitsOpened));
    sample(out, "goop_relay_circuits_total", "result=\"refused\"", double(relay.circuitsRefused));
    counter(out, "goop_relay_circuits_limited_total",
            "Circuits reset by their data or duration limit.", double(relay.circuitsLimited));
    counter(out, "goop_relay_bytes_total", "Bytes relayed, both directions.",
            double(relay.bytesRelayed));
}

void renderCluster(QByteArray &out, const ServerMetrics::Gauges::Cluster &cluster)
{
    header(out, "goop_cluster_connected", "gauge",
           "1 while the Redis backplane is connected and following the cluster's events.");
    sample(out, "goop_cluster_connected", {}, cluster.connected ? 1 : 0);
    counter(out, "goop_cluster_published_total", "Local publishes sent to Redis.",
            double(cluster.published));
    counter(out, "goop_cluster_received_total", "Events of other instances applied here.",
            double(cluster.received));
    counter(out, "goop_cluster_expiries_total",
            "Expiries on the cluster's event stream (by any instance).", double(cluster.expired));
    counter(out, "goop_cluster_dropped_total",
            "Local publishes not sent to Redis: held through an outage beyond the outbox's cap.",
            double(cluster.dropped));
    counter(out, "goop_cluster_errors_total", "Error replies from Redis.", double(cluster.errors));
    counter(out, "goop_cluster_outages_total", "Connections to Redis lost or not made.",
            double(cluster.outages));
    counter(out, "goop_cluster_resyncs_total", "Snapshots of the cluster's state loaded.",
            double(cluster.resyncs));
}

void renderRendezvous(QByteArray &out, const ServerMetrics::Gauges::Rendezvous &rendezvous)
{
    header(out, "goop_rendezvous_registrations", "gauge",
           "Registrations held by the libp2p rendezvous point.");
    sample(out, "goop_rendezvous_registrations", {}, double(rendezvous.registrations));
    header(out, "goop_rendezvous_namespaces", "gauge",
           "Namespaces with at least one rendezvous registration.");
    sample(out, "goop_rendezvous_namespaces", {}, double(rendezvous.namespaces));
    header(out, "goop_rendezvous_requests_total", "counter", "Rendezvous requests, by type.");
    sample(out, "goop_rendezvous_requests_total", "type=\"register\"",
           double(rendezvous.registers));
    sample(out, "goop_rendezvous_requests_total", "type=\"unregister\"",
           double(rendezvous.unregisters));
    sample(out, "goop_rendezvous_requests_total", "type=\"discover\"",
           double(rendezvous.discovers));
    header(out, "goop_rendezvous_refusals_total", "counter",
           "Rendezvous requests refused, by the status answered.");
    for (const auto &[status, count] : rendezvous.refusals)
        sample(out, "goop_rendezvous_refusals_total", "status=\"" + status + '"', double(count));
}

} // namespace

ServerMetrics::ServerMetrics()
    : m_started(std::chrono::steady_clock::now()),
      m_startedWallSeconds(QDateTime::currentSecsSinceEpoch())
{}

size_t ServerMetrics::statusSlot(int status)
{
    for (size_t i = 0; i < trackedStatuses.size(); ++i)
        if (trackedStatuses[i] == status)
            return i;
    return trackedStatuses.size();
}

void ServerMetrics::countRequest(Route route, int status, std::chrono::nanoseconds duration)
{
    const size_t r = size_t(route);
    m_requests[r][statusSlot(status)].fetch_add(1, std::memory_order_relaxed);
    const double seconds = double(duration.count()) / 1e9;
    size_t bucket = 0;
    while (bucket < bucketBounds.size() && seconds > bucketBounds[bucket])
        ++bucket;
    m_buckets[r][bucket].fetch_add(1, std::memory_order_relaxed);
    m_durationNanoseconds[r].fetch_add(quint64(duration.count()), std::memory_order_relaxed);
}

void ServerMetrics::countRefusal(int status)
{
    m_refusals[statusSlot(status)].fetch_add(1, std::memory_order_relaxed);
}

void ServerMetrics::countPublishRejected(PublishRejection reason)
{
    m_publishesRejected[size_t(reason)].fetch_add(1, std::memory_order_relaxed);
}

ServerMetrics::Route ServerMetrics::routeFor(QByteArrayView path)
{
    for (size_t i = 0; i < size_t(Route::Dashboard); ++i)
        if (path == routeLabels[i])
            return Route(i);
    if (path == "/" || path.startsWith("/assets/"))
        return Route::Dashboard;
    return Route::Other;
}

QByteArray ServerMetrics::render(const Gauges &gauges) const
{
    const auto load = [](const std::atomic<quint64> &value) {
        return double(value.load(std::memory_order_relaxed));
    };
    const auto statusLabel = [](size_t slot) {
        return slot < trackedStatuses.size() ? QByteArray::number(trackedStatuses[slot])
                                             : QByteArray("other");
    };
    QByteArray out;
    out.reserve(8192);

    header(out, "goop_peers", "gauge", "Peers online, by the type of their last message.");
    sample(out, "goop_peers", "type=\"online\"", double(gauges.peersOnline));
    sample(out, "goop_peers", "type=\"update\"", double(gauges.peersUpdate));
    header(out, "goop_peer_expiries_total", "counter", "Peers removed after the silence limit.");
    sample(out, "goop_peer_expiries_total", {}, double(gauges.expiries));

    header(out, "goop_publishes_total", "counter", "Publishes accepted.");
    sample(out, "goop_publishes_total", {}, load(m_publishesAccepted));
    header(out, "goop_publish_rejections_total", "counter", "Publishes rejected, by reason.");
    for (size_t i = 0; i < m_publishesRejected.size(); ++i)
        sample(out, "goop_publish_rejections_total",
               QByteArray("reason=\"") + rejectionLabels[i] + '"', load(m_publishesRejected[i]));

    header(out, "goop_sse_subscribers", "gauge", "Open event streams.");
    sample(out, "goop_sse_subscribers", {}, double(gauges.subscribers));
    header(out, "goop_sse_events_delivered_total", "counter",
           "Events handed to event streams (one per stream).");
    sample(out, "goop_sse_events_delivered_total", {}, double(gauges.eventsDelivered));
    header(out, "goop_sse_subscribers_dropped_total", "counter",
           "Event streams closed because their client stopped reading.");
    sample(out, "goop_sse_subscribers_dropped_total", {}, double(gauges.subscribersDropped));
    header(out, "goop_stream_backlog_bytes", "gauge",
           "Memory held for events that streams (SSE and WebSocket) have not taken yet.");
    sample(out, "goop_stream_backlog_bytes", {}, double(gauges.backlogBytes));
    header(out, "goop_stream_backlog_max_bytes", "gauge",
           "The most all streams may hold together (--max-backlog-total).");
    sample(out, "goop_stream_backlog_max_bytes", {}, double(gauges.maxBacklogBytes));
    header(out, "goop_event_history_events", "gauge",
           "Recent events kept for subscribers that resume with Last-Event-ID.");
    sample(out, "goop_event_history_events", {}, double(gauges.history.events));
    header(out, "goop_event_history_bytes", "gauge", "Memory the kept events hold.");
    sample(out, "goop_event_history_bytes", {}, double(gauges.history.bytes));
    header(out, "goop_sse_resumes_total", "counter",
           "Event streams opened with Last-Event-ID, by outcome: resumed from the history, or "
           "told it was lost and given a snapshot.");
    sample(out, "goop_sse_resumes_total", "outcome=\"resumed\"", double(gauges.history.resumed));
    sample(out, "goop_sse_resumes_total", "outcome=\"lost\"", double(gauges.history.lost));
    header(out, "goop_sse_events_replayed_total", "counter",
           "Events sent again to resuming subscribers.");
    sample(out, "goop_sse_events_replayed_total", {}, double(gauges.history.replayed));
    header(out, "goop_sse_snapshots_total", "counter",
           "Event streams started with a snapshot of the peers (snapshot=1, or a lost resume).");
    sample(out, "goop_sse_snapshots_total", {}, double(gauges.history.snapshots));

    header(out, "goop_websocket_connections", "gauge", "Open WebSocket connections (/ws).");
    sample(out, "goop_websocket_connections", {}, double(gauges.webSockets));
    header(out, "goop_websocket_messages_received_total", "counter",
           "Text frames received from WebSocket clients (presence messages, valid or not).");
    sample(out, "goop_websocket_messages_received_total", {},
           double(gauges.webSocketMessagesReceived));
    header(out, "goop_websocket_frames_sent_total", "counter",
           "Events and punch hints sent on WebSockets (one per connection).");
    sample(out, "goop_websocket_frames_sent_total", {}, double(gauges.webSocketFramesSent));
    header(out, "goop_websocket_dropped_total", "counter",
           "WebSockets closed because their client stopped reading.");
    sample(out, "goop_websocket_dropped_total", {}, double(gauges.webSocketsDropped));
    header(out, "goop_websocket_probes_total", "counter", "Answered /ws?probe=1 upgrades.");
    sample(out, "goop_websocket_probes_total", {}, load(m_webSocketProbes));
    header(out, "goop_punch_hints_total", "counter", "Punch hints sent (one per target).");
    sample(out, "goop_punch_hints_total", {}, double(gauges.punchHints));

    const auto limitLabel = [](size_t i) {
        return QByteArray("limit=\"") + AccessControl::limitName(AccessControl::Limit(i)) + '"';
    };
    header(out, "goop_limited_total", "counter",
           "Requests refused by a per-client limit (429), and failed operator logins.");
    for (size_t i = 0; i < AccessControl::limitCount; ++i)
        sample(out, "goop_limited_total", limitLabel(i), double(gauges.access.refused[i]));
    header(out, "goop_limit_keys", "gauge",
           "Clients (addresses or peer IDs) each per-client limit holds state for.");
    for (size_t i = 0; i < AccessControl::limitCount; ++i)
        sample(out, "goop_limit_keys", limitLabel(i), double(gauges.access.held[i]));
    header(out, "goop_websocket_messages_limited_total", "counter",
           "Presence messages on WebSockets dropped by a per-client publish limit.");
    sample(out, "goop_websocket_messages_limited_total", {},
           double(gauges.webSocketMessagesLimited));

    header(out, "goop_connections", "gauge", "Open connections, event streams included.");
    sample(out, "goop_connections", {}, double(gauges.connections));
    header(out, "goop_connections_idle_parked", "gauge",
           "Keep-alive connections idle between requests, waiting outside the HTTP threads.");
    sample(out, "goop_connections_idle_parked", {}, double(gauges.idleConnectionsParked));
    header(out, "goop_connections_max", "gauge", "The connection cap.");
    sample(out, "goop_connections_max", {}, double(gauges.maxConnections));

    header(out, "goop_http_requests_total", "counter",
           "HTTP requests answered, by route and status.");
    for (size_t r = 0; r < routeCount; ++r) {
        for (size_t s = 0; s < statusSlots; ++s) {
            if (load(m_requests[r][s]) > 0)
                sample(out, "goop_http_requests_total",
                       QByteArray("route=\"") + routeLabels[r] + "\",status=\"" + statusLabel(s) +
                           '"',
                       load(m_requests[r][s]));
        }
    }
    header(out, "goop_http_refused_total", "counter",
           "Requests refused before routing (malformed, too large, too slow, over the connection "
           "cap), by status.");
    for (size_t s = 0; s < statusSlots; ++s) {
        if (load(m_refusals[s]) > 0)
            sample(out, "goop_http_refused_total", "status=\"" + statusLabel(s) + '"',
                   load(m_refusals[s]));
    }
    header(out, "goop_http_request_duration_seconds", "histogram",
           "Time to answer a request, by route.");
    for (size_t r = 0; r < routeCount; ++r) {
        const QByteArray route = QByteArray("route=\"") + routeLabels[r] + '"';
        double cumulative = 0;
        for (size_t b = 0; b <= bucketBounds.size(); ++b) {
            cumulative += load(m_buckets[r][b]);
            const QByteArray bound =
                b < bucketBounds.size() ? QByteArray::number(bucketBounds[b], 'g', 6) : "+Inf";
            sample(out, "goop_http_request_duration_seconds_bucket", route + ",le=\"" + bound + '"',
                   cumulative);
        }
        sample(out, "goop_http_request_duration_seconds_sum", route,
               load(m_durationNanoseconds[r]) / 1e9);
        sample(out, "goop_http_request_duration_seconds_count", route, cumulative);
    }

    if (const auto &cluster = gauges.cluster)
        renderCluster(out, *cluster);
    if (const auto &rendezvous = gauges.rendezvous)
        renderRendezvous(out, *rendezvous);
    if (const auto &libp2p = gauges.libp2p)
        renderLibp2p(out, *libp2p);

    const ProcessStats process = ProcessStats::read();
    header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    sample(out, "process_resident_memory_bytes", {}, double(process.residentBytes));
    if (process.openFiles) {
        header(out, "process_open_fds", "gauge", "Number of open file descriptors.");
        sample(out, "process_open_fds", {}, double(*process.openFiles));
    }
    if (process.maxOpenFiles) {
        header(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        sample(out, "process_max_fds", {}, double(*process.maxOpenFiles));
    }
    header(out, "process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.");
    sample(out, "process_cpu_seconds_total", {}, process.cpuSeconds);
    header(out, "process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.");
    sample(out, "process_start_time_seconds", {}, double(m_startedWallSeconds));
    header(out, "goop_uptime_seconds", "gauge", "Seconds since the server started.");
    sample(out, "goop_uptime_seconds", {},
           std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count());
    header(out, "goop_build_info", "gauge", "Version of this build (always 1).");
    sample(out, "goop_build_info", "version=\"" GOOP_VERSION "\",qt=\"" QT_VERSION_STR "\"", 1);
    return out;
}
