// goop-meshbench: the load generator behind tests/bench/run-mesh-benchmark.sh (issue 18).
//
// It plays a whole Goop² network against one server: N peers, each from a loopback address of
// its own (127.1.x.y, bound before connect, so that a server counting per client address sees
// N hosts), each publishing an `update` heartbeat every 5 s (spread evenly over the period) and
// each subscribed to every event. A heartbeat carries "meshbench:<publisher>:<slot>:<sent ns>"
// in `content`, which every server relays unchanged, so that each delivery yields its
// publish-to-delivery latency (the send time against the kernel's receive timestamp, both
// CLOCK_REALTIME) and is checked off against the deliveries expected.
//
//   --transport sse  seed-era peers: `online`, then the heartbeats, by POST /publish on a
//                    keep-alive connection of their own; every event from GET /events on another.
//   --transport ws   today's peers: `online` by POST /publish (a server answers 425 to the
//                    upgrade of a peer it does not know), then GET /ws?peer_id=ID; heartbeats go
//                    out as text frames on that WebSocket and every event comes back on it.
//
// One run is one step: connect the N peers, warm up until every peer's heartbeat has gone round,
// measure for --seconds, then wait up to --grace-s for the window's last deliveries. It prints
// one JSON line. With --server-pid it also reads the server's CPU time and RSS, and the machine's
// CPU time, over the window (/proc), so that the figures come from the same instants.
//
// One thread, plain sockets and epoll, no Qt: the generator shares the cores with the server it
// measures, so every cycle it spends per delivery is one the server does not get.

#include "loopbackclient.h"
#include "slowsubscribers.h"
#include "soakledger.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <functional>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <string>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using namespace loopback;

// Peer i's own loopback address.
void bindPeerAddress(int fd, size_t peer)
{
    bindSourceAddress(fd, static_cast<uint32_t>(peer));
}

// A reply to a publish at the front of buf: 1 complete (status, total bytes set), 0 incomplete,
// -1 unreadable. Replies to POST /publish are 204 or short errors with a Content-Length.
int parsePublishReply(const std::string &buf, int &status, size_t &total)
{
    const size_t headEnd = buf.find("\r\n\r\n");
    if (headEnd == std::string::npos)
        return buf.size() > 16384 ? -1 : 0;
    if (buf.compare(0, 5, "HTTP/") != 0 || headEnd < 12)
        return -1;
    status = std::atoi(buf.c_str() + 9);
    size_t contentLength = 0;
    size_t pos = buf.find("\r\n") + 2;
    while (pos < headEnd) {
        const size_t eol = buf.find("\r\n", pos);
        const char *line = buf.data() + pos;
        if (headerIs(line, eol - pos, "content-length"))
            contentLength = std::strtoul(line + 15, nullptr, 10);
        else if (headerIs(line, eol - pos, "transfer-encoding"))
            return -1;
        pos = eol + 2;
    }
    total = headEnd + 4 + (status == 204 ? 0 : contentLength);
    return buf.size() >= total ? 1 : 0;
}

// Reads an unsigned decimal at p (advancing it); false when there is no digit.
bool readNumber(const char *&p, const char *end, uint64_t &value)
{
    const char *start = p;
    value = 0;
    while (p < end && *p >= '0' && *p <= '9')
        value = value * 10 + static_cast<uint64_t>(*p++ - '0');
    return p != start;
}

// Latencies in a log-linear histogram (64 buckets per power of two of microseconds, so each
// bucket is within 1.6 %): a step at 4,000 peers has ~100 million deliveries, too many to keep.
class LatencyHistogram
{
public:
    void add(int64_t ns)
    {
        const uint64_t us = ns > 0 ? static_cast<uint64_t>(ns) / 1000 : 0;
        ++m_counts[std::min(bucketOf(us), m_counts.size() - 1)];
        ++m_count;
        m_sumUs += us;
        m_maxUs = std::max(m_maxUs, us);
    }

    uint64_t count() const { return m_count; }

    // The upper edge of the bucket holding the p-th percentile (nearest rank): never below it.
    double percentileMs(double p) const
    {
        if (m_count == 0)
            return -1;
        auto rank = static_cast<uint64_t>(p / 100.0 * static_cast<double>(m_count) + 0.999999);
        rank = std::clamp<uint64_t>(rank, 1, m_count);
        uint64_t seen = 0;
        for (size_t b = 0; b < m_counts.size(); ++b) {
            seen += m_counts[b];
            if (seen >= rank)
                return static_cast<double>(std::min(upperEdge(b), m_maxUs)) / 1000.0;
        }
        return maxMs();
    }

    double maxMs() const { return m_count ? static_cast<double>(m_maxUs) / 1000.0 : -1; }
    double meanMs() const
    {
        return m_count ? static_cast<double>(m_sumUs) / static_cast<double>(m_count) / 1000.0 : -1;
    }

private:
    static constexpr unsigned kSubBits = 6;
    static constexpr uint64_t kSub = 1u << kSubBits;

    static size_t bucketOf(uint64_t us)
    {
        if (us < kSub)
            return static_cast<size_t>(us);
        const unsigned top = 63 - static_cast<unsigned>(__builtin_clzll(us));
        const unsigned shift = top - kSubBits;
        return static_cast<size_t>((top - kSubBits + 1) * kSub + ((us >> shift) - kSub));
    }

    static uint64_t upperEdge(size_t bucket)
    {
        if (bucket < kSub)
            return bucket;
        const unsigned shift = static_cast<unsigned>(bucket / kSub) - 1;
        const uint64_t mantissa = bucket % kSub + kSub;
        return ((mantissa + 1) << shift) - 1;
    }

    std::vector<uint64_t> m_counts = std::vector<uint64_t>(64 * kSub, 0);
    uint64_t m_count = 0;
    uint64_t m_sumUs = 0;
    uint64_t m_maxUs = 0;
};

// One JSON object, built field by field.
class JsonObject
{
public:
    JsonObject &number(const char *name, double value, int decimals = 3)
    {
        char text[64];
        std::snprintf(text, sizeof text, "%.*f", decimals, value);
        return raw(name, text);
    }
    JsonObject &integer(const char *name, uint64_t value)
    {
        return raw(name, std::to_string(value));
    }
    JsonObject &text(const char *name, const char *value)
    {
        return raw(name, std::string("\"") + value + "\"");
    }
    JsonObject &object(const char *name, const JsonObject &value) { return raw(name, value.str()); }
    JsonObject &raw(const char *name, const std::string &json)
    {
        m_fields += (m_fields.empty() ? "\"" : ",\"") + std::string(name) + "\":" + json;
        return *this;
    }
    std::string str() const { return "{" + m_fields + "}"; }

private:
    std::string m_fields;
};

// utime + stime of a process in clock ticks (fields 14 and 15 of /proc/PID/stat; the text after
// the last ')', as the command name may hold spaces, starts at field 3); -1 when it is gone.
long long processTicks(pid_t pid)
{
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    FILE *f = std::fopen(path, "r");
    if (!f)
        return -1;
    char text[1024];
    const size_t n = std::fread(text, 1, sizeof text - 1, f);
    std::fclose(f);
    text[n] = '\0';
    const char *rest = std::strrchr(text, ')');
    unsigned long long utime = 0, stime = 0;
    if (!rest || std::sscanf(rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                             &utime, &stime) != 2)
        return -1;
    return static_cast<long long>(utime + stime);
}

long long residentKb(pid_t pid)
{
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
    long long kb = -1;
    if (FILE *f = std::fopen(path, "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f))
            if (std::sscanf(line, "VmRSS: %lld", &kb) == 1)
                break;
        std::fclose(f);
    }
    return kb;
}

// The kernel threads that take over softirq work under load: on loopback that is the TCP
// receive work of this benchmark's own traffic, which must not count as other processes' load.
std::vector<pid_t> softirqThreads()
{
    std::vector<pid_t> pids;
    DIR *proc = opendir("/proc");
    if (!proc)
        return pids;
    while (const dirent *entry = readdir(proc)) {
        char *end = nullptr;
        const long pid = std::strtol(entry->d_name, &end, 10);
        if (*end != '\0' || pid <= 0)
            continue;
        char path[64];
        std::snprintf(path, sizeof path, "/proc/%ld/comm", pid);
        if (FILE *f = std::fopen(path, "r")) {
            char name[64] = {};
            if (std::fgets(name, sizeof name, f) && std::strncmp(name, "ksoftirqd/", 10) == 0)
                pids.push_back(static_cast<pid_t>(pid));
            std::fclose(f);
        }
    }
    closedir(proc);
    return pids;
}

// What /proc says at one instant. Interrupt time counts as busy because this kernel (without
// IRQ_TIME_ACCOUNTING) also charges it to the process it interrupted: the server or the generator.
struct ProcSample
{
    int64_t monotonic = 0;
    double generatorCpu = 0;
    long long serverTicks = -1;
    long long serverRssKb = -1;
    long long softirqThreadTicks = 0;
    long long machineBusyTicks = -1;
    long long machineIrqTicks = -1;

    static ProcSample take(pid_t server, const std::vector<pid_t> &softirqPids)
    {
        ProcSample s;
        s.monotonic = nowNs();
        s.generatorCpu = cpuSeconds();
        if (server > 0) {
            s.serverTicks = processTicks(server);
            s.serverRssKb = residentKb(server);
        }
        for (const pid_t pid : softirqPids)
            s.softirqThreadTicks += std::max(0LL, processTicks(pid));
        if (FILE *f = std::fopen("/proc/stat", "r")) {
            unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
                               softirq = 0, steal = 0;
            if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system,
                            &idle, &iowait, &irq, &softirq, &steal) == 8) {
                s.machineBusyTicks =
                    static_cast<long long>(user + nice + system + irq + softirq + steal);
                s.machineIrqTicks = static_cast<long long>(irq + softirq);
            }
            std::fclose(f);
        }
        return s;
    }
};

struct Settings
{
    int port = 0;
    size_t peers = 100;
    bool webSocket = false;
    int64_t periodNs = 5 * kSecond;
    int64_t windowNs = 30 * kSecond;
    int64_t warmupNs = 6 * kSecond;
    int64_t graceNs = 5 * kSecond;
    int64_t connectTimeoutNs = 60 * kSecond;
    size_t handshakesInFlight = 64;
    int64_t readPaceNs = 0; // at most one round of reads this often (0: read at once)
    bool expectOwnEvents = true;
    bool kernelTimestamps = true;
    pid_t serverPid = 0;
    // A soak (tests/soak/run-soak.py): streams resume with Last-Event-ID, every accepted
    // heartbeat is checked off per subscriber (SoakLedger), with slow and vanishing
    // subscribers mixed in and a progress line now and then.
    bool soak = false;
    size_t slowSubscribers = 0;
    size_t vanishing = 0; // of the peers, whose streams vanish now and then
    int64_t vanishEveryNs = 60 * kSecond;
    int64_t progressNs = 10 * kSecond;
};

// Heartbeats carry this marker; no other event (the `online`s, expiries) does.
constexpr char kMarker[] = "meshbench:";
constexpr size_t kMarkerLength = sizeof kMarker - 1;

enum class Phase : uint8_t
{
    Closed,       // no socket: waiting for a connect slot or a retry
    Connecting,   // TCP handshake under way
    AwaitingHead, // the request is sent, the response head is not complete
    AwaitingOk,   // SSE: 200 read, the ": ok" comment not yet
    Open
};

// The body of a response sent with Transfer-Encoding: chunked, unwrapped as it arrives. The Go
// servers stream events this way, and Caddy re-frames ours so: its last (empty) chunk is how a
// stream through a proxy ends, where a direct one closes the connection.
class ChunkedDecoder
{
public:
    // Appends the body's bytes in `data` to `out`; false once the last chunk came (or the
    // framing broke): the stream is over.
    bool feed(const char *data, size_t size, std::string &out)
    {
        for (size_t i = 0; i < size;) {
            if (m_state == State::Data) {
                const auto take = static_cast<size_t>(std::min<uint64_t>(m_left, size - i));
                out.append(data + i, take);
                i += take;
                m_left -= take;
                if (m_left == 0)
                    m_state = State::DataEnd;
                continue;
            }
            const char c = data[i++];
            if (m_state == State::DataEnd) { // the line end after a chunk's data
                if (c == '\n')
                    m_state = State::Size;
                continue;
            }
            // A size line: hex digits, perhaps ";extensions", a line end.
            if (c == '\n') {
                if (m_digits == 0 || m_left == 0)
                    return false;
                m_state = State::Data;
                m_digits = 0;
                m_inExtension = false;
            } else if (c == ';') {
                m_inExtension = true;
            } else if (c != '\r' && !m_inExtension) {
                const int digit =
                    std::isxdigit(static_cast<unsigned char>(c))
                        ? (std::isdigit(static_cast<unsigned char>(c))
                               ? c - '0'
                               : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10)
                        : -1;
                if (digit < 0 || m_digits > 12)
                    return false;
                m_left = m_left * 16 + static_cast<uint64_t>(digit);
                ++m_digits;
            }
        }
        return true;
    }

private:
    enum class State
    {
        Size,
        Data,
        DataEnd
    } m_state = State::Size;
    uint64_t m_left = 0; // of the chunk's data, or the size being read
    int m_digits = 0;
    bool m_inExtension = false;
};

// One TCP connection of a peer.
struct Link
{
    int fd = -1;
    Phase phase = Phase::Closed;
    bool wantsWrite = false;               // EPOLLOUT armed
    bool lastReplyOk = false;              // the control connection's last reply was a 204
    std::string inbox;                     // a partial line, frame or reply, kept for the next read
    std::string outbox;                    // bytes the socket did not take yet
    std::optional<ChunkedDecoder> chunked; // a stream's body sent chunked
};

// One heartbeat: its slot, and when the peer first tried to send it (CLOCK_REALTIME), which a
// publish sent again after a connection loss keeps.
struct Heartbeat
{
    uint32_t slot = 0;
    int64_t sentNs = 0;
};

struct Peer
{
    Link stream;  // GET /events, or the WebSocket
    Link control; // POST /publish: every publish over SSE; over WebSocket the `online` only
    Heartbeat inFlight;
    Heartbeat owed;            // waiting for the connection, or for the reply to inFlight
    uint8_t streamRetries = 0; // failed stream attempts in a row, for the back-off
    bool onlineSent = false;
    bool announced = false; // an `online` was answered 204
    bool publishInFlight = false;
    bool onlineInFlight = false;
    bool beatOwed = false;
    std::string lastEventId; // of the last complete event (soak: sent when the stream resumes)
    std::string eventId;     // of the event being read
};

class MeshGenerator
{
public:
    explicit MeshGenerator(const Settings &settings)
        : m_settings(settings), m_peers(settings.peers), m_ids(settings.peers),
          m_lastSlot(settings.peers * settings.peers, 0)
    {
        m_epoll = epoll_create1(EPOLL_CLOEXEC);
        if (m_epoll < 0)
            die("epoll_create1 failed");
        for (size_t i = 0; i < m_peers.size(); ++i)
            m_ids[i] = peerId(i);
        if (settings.soak) {
            const int64_t runNs = settings.connectTimeoutNs +
                                  std::max(settings.warmupNs, settings.periodNs) +
                                  settings.windowNs + settings.graceNs;
            m_ledger = std::make_unique<SoakLedger>(
                settings.peers, static_cast<size_t>(runNs / settings.periodNs + 2));
        }
        if (settings.slowSubscribers > 0)
            m_slow = std::make_unique<SlowSubscribers>(settings.port, settings.slowSubscribers,
                                                       static_cast<uint32_t>(settings.peers));
    }

    ~MeshGenerator()
    {
        for (size_t i = 0; i < m_peers.size(); ++i) {
            closeLink(tagOf(i, false));
            closeLink(tagOf(i, true));
        }
        close(m_epoll);
    }

    void run()
    {
        m_t0 = nowNs();
        m_realOffset = realtimeNs() - nowNs();
        for (size_t i = 0; i < m_peers.size(); ++i) {
            // Over WebSocket the upgrade waits for the `online`'s 204 (answered()).
            m_connectQueue.push_back(tagOf(i, false));
            if (!m_settings.webSocket)
                m_connectQueue.push_back(tagOf(i, true));
        }
        int64_t lastRound = 0;
        for (;;) {
            const int64_t now = nowNs();
            startDueConnects(now);
            sendDueBeats(now);
            if (!passBoundaries(now))
                break;
            if (m_settings.soak)
                soakChores(now);
            // Paced, each read takes what arrived meanwhile: fewer system calls per delivery.
            if (m_settings.readPaceNs > 0 && lastRound + m_settings.readPaceNs > now) {
                const int64_t until = lastRound + m_settings.readPaceNs;
                const timespec wake{static_cast<time_t>(until / kSecond), until % kSecond};
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nullptr);
            }
            lastRound = nowNs();
            epoll_event events[1024];
            const int n = epoll_wait(m_epoll, events, 1024, waitMs(nowNs()));
            const int64_t at = realtimeNs();
            for (int k = 0; k < n; ++k)
                handle(events[k].data.u64, events[k].events, at);
        }
    }

    void report() const
    {
        const ProcSample &a = m_windowStartSample;
        const ProcSample &b = m_windowEndSample;
        const double window = static_cast<double>(b.monotonic - a.monotonic) / 1e9;
        const uint64_t recipients = m_peers.size() - (m_settings.expectOwnEvents ? 0 : 1);
        const uint64_t expected = m_beatsInWindow * recipients;
        const uint64_t lost = expected > m_delivered ? expected - m_delivered : 0;
        const double generatorCpu = b.generatorCpu - a.generatorCpu;

        JsonObject latency;
        latency.integer("count", m_latency.count())
            .number("mean", m_latency.meanMs())
            .number("p50", m_latency.percentileMs(50))
            .number("p99", m_latency.percentileMs(99))
            .number("max", m_latency.maxMs());

        JsonObject line;
        line.text("mode", "mesh")
            .text("transport", m_settings.webSocket ? "ws" : "sse")
            .integer("peers", m_peers.size())
            .number("window_s", window)
            .integer("period_ms", static_cast<uint64_t>(m_settings.periodNs / kMillisecond))
            .integer("read_pace_ms", static_cast<uint64_t>(m_settings.readPaceNs / kMillisecond))
            .text("own_events", m_settings.expectOwnEvents ? "expected" : "ignored")
            .integer("peers_ready_at_start", m_readyAtStart)
            .integer("peers_ready_at_end", readyPeers())
            .number("connect_s", static_cast<double>(m_connectedAt - m_t0) / 1e9)
            .integer("beats_in_window", m_beatsInWindow)
            .integer("expected", expected)
            .integer("delivered", m_delivered)
            .integer("lost", lost)
            .number("lost_share",
                    expected ? static_cast<double>(lost) / static_cast<double>(expected) : 0, 6)
            .number("deliveries_per_s", static_cast<double>(m_windowEvents) / window, 0)
            .number("ideal_per_s",
                    static_cast<double>(m_peers.size() * recipients) * 1e9 /
                        static_cast<double>(m_settings.periodNs),
                    0)
            .object("latency_ms", latency)
            .integer("own_events_seen", m_ownEvents)
            .integer("duplicates", m_duplicates)
            .integer("strays", m_strays)
            .integer("beats_skipped_in_window", m_beatsSkippedInWindow)
            .integer("publishes_delayed", m_publishesDelayed)
            .integer("publishes_resent", m_publishesResent)
            .integer("publish_connections_ended", m_controlRedials)
            .object("publish_errors", countsByStatus(m_publishErrors))
            .object("stream_refusals", countsByStatus(m_streamRefusals))
            .integer("ws_too_early", m_wsTooEarly)
            .integer("connect_failures", m_connectFailures)
            .integer("stream_drops", m_streamDrops)
            .integer("stream_drops_in_window", m_streamDropsInWindow)
            .number("generator_cpu_s", generatorCpu, 2)
            .number("generator_cpu_cores", generatorCpu / window)
            .number("generator_cpu_total_s", cpuSeconds(), 2)
            .integer("kernel_stamped_reads", m_kernelStamped)
            .integer("client_stamped_reads", m_clientStamped);

        // Null when there is no server to read (no --server-pid, or it exited in the window).
        const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
        if (m_settings.serverPid > 0 && a.serverTicks >= 0 && b.serverTicks >= 0) {
            const double cpu = static_cast<double>(b.serverTicks - a.serverTicks) / ticks;
            JsonObject server;
            server.integer("pid", static_cast<uint64_t>(m_settings.serverPid))
                .number("cpu_s", cpu, 2)
                .number("cpu_cores", cpu / window)
                .number("us_per_delivery",
                        m_windowAllEvents ? cpu * 1e6 / static_cast<double>(m_windowAllEvents) : -1,
                        4)
                .number("rss_kb", static_cast<double>(b.serverRssKb), 0)
                .number("rss_start_kb", static_cast<double>(a.serverRssKb), 0);
            line.object("server", server);
            const double cores = static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN));
            const double busy =
                static_cast<double>(b.machineBusyTicks - a.machineBusyTicks) / ticks;
            const double softirqThreads =
                static_cast<double>(b.softirqThreadTicks - a.softirqThreadTicks) / ticks;
            const double other = std::max(0.0, busy - cpu - generatorCpu - softirqThreads);
            JsonObject machine;
            machine.number("cores", cores, 0)
                .number("busy_s", busy, 2)
                .number("irq_s", static_cast<double>(b.machineIrqTicks - a.machineIrqTicks) / ticks,
                        2)
                .number("ksoftirqd_s", softirqThreads, 2)
                .number("other_s", other, 2)
                .number("other_share", other / (cores * window));
            line.object("machine", machine);
        } else {
            line.raw("server", "null").raw("machine", "null");
        }
        if (m_ledger)
            line.object("soak", soakReport()).text("state", "done");
        std::printf("%s\n", line.str().c_str());
        std::fflush(stdout);
    }

private:
    static JsonObject countsByStatus(const std::map<int, uint64_t> &counts)
    {
        JsonObject object;
        for (const auto &[status, count] : counts)
            object.integer(std::to_string(status).c_str(), count);
        return object;
    }

    // epoll tags: peer index * 2, plus 1 for the stream link.
    static uint64_t tagOf(size_t peer, bool stream) { return peer * 2 + (stream ? 1 : 0); }
    static size_t peerOf(uint64_t tag) { return static_cast<size_t>(tag / 2); }
    static bool isStream(uint64_t tag) { return tag & 1; }
    Link &linkOf(uint64_t tag)
    {
        Peer &peer = m_peers[peerOf(tag)];
        return isStream(tag) ? peer.stream : peer.control;
    }

    bool windowKnown() const { return m_windowStart > 0; }

    // When peer p's heartbeat of `slot` falls due: every period, p's share of it in.
    int64_t beatTime(size_t p, uint64_t slot) const
    {
        return m_t0 + static_cast<int64_t>(slot) * m_settings.periodNs +
               static_cast<int64_t>(p) * m_settings.periodNs / static_cast<int64_t>(m_peers.size());
    }

    bool inWindow(int64_t monotonic) const
    {
        return windowKnown() && monotonic >= m_windowStart && monotonic < m_windowEnd;
    }

    size_t readyPeers() const
    {
        return m_settings.webSocket ? m_streamsOpen : std::min(m_streamsOpen, m_announced);
    }

    // --- the clock: connects, heartbeats, the window ------------------------------------

    void startDueConnects(int64_t now)
    {
        while (!m_retries.empty() && m_retries.front().first <= now) {
            m_connectQueue.push_back(m_retries.front().second);
            std::pop_heap(m_retries.begin(), m_retries.end(), std::greater<>());
            m_retries.pop_back();
        }
        // A bounded number of handshakes at a time, so that the server's accept backlog never
        // overflows: an overflow costs a 1 s SYN retransmit, which would measure the kernel.
        while (!m_connectQueue.empty() && m_handshakes < m_settings.handshakesInFlight) {
            const uint64_t tag = m_connectQueue.front();
            m_connectQueue.pop_front();
            openLink(tag);
        }
    }

    // The heartbeats fall due in a fixed order (peer 0 to N-1, every period), so one cursor
    // walks them without a timer per peer.
    void sendDueBeats(int64_t now)
    {
        while (beatTime(m_beatPeer, m_beatSlot) <= now) {
            beat(m_beatPeer, m_beatSlot);
            if (++m_beatPeer == m_peers.size()) {
                m_beatPeer = 0;
                ++m_beatSlot;
            }
        }
    }

    // Opens the window once every peer is ready (or the connect timeout passed), samples its
    // two ends; false when the run is over.
    bool passBoundaries(int64_t now)
    {
        if (!windowKnown() &&
            (readyPeers() == m_peers.size() || now - m_t0 >= m_settings.connectTimeoutNs)) {
            m_connectedAt = now;
            // The warm-up is at least one period, so that every peer's heartbeat goes round
            // over its established connections before anything is counted.
            m_windowStart = now + std::max(m_settings.warmupNs, m_settings.periodNs);
            m_windowEnd = m_windowStart + m_settings.windowNs;
            m_deadline = m_windowEnd + m_settings.graceNs;
        }
        if (!windowKnown())
            return true;
        if (m_windowStartSample.monotonic == 0 && now >= m_windowStart) {
            m_windowStartSample = ProcSample::take(m_settings.serverPid, m_softirqPids);
            m_readyAtStart = readyPeers();
        }
        if (m_windowEndSample.monotonic == 0 && now >= m_windowEnd)
            m_windowEndSample = ProcSample::take(m_settings.serverPid, m_softirqPids);
        if (m_windowEndSample.monotonic == 0)
            return true;
        const uint64_t recipients = m_peers.size() - (m_settings.expectOwnEvents ? 0 : 1);
        // A soak runs its whole time: its books are kept by the ledger.
        const bool allIn = !m_ledger && m_delivered == m_beatsInWindow * recipients;
        return now < m_deadline && !allIn;
    }

    int waitMs(int64_t now) const
    {
        int64_t until = std::min(beatTime(m_beatPeer, m_beatSlot), now + 100 * kMillisecond);
        if (!m_retries.empty())
            until = std::min(until, m_retries.front().first);
        if (!m_connectQueue.empty() && m_handshakes < m_settings.handshakesInFlight)
            until = now;
        for (const int64_t boundary : {m_windowStart, m_windowEnd, m_deadline})
            if (boundary > now)
                until = std::min(until, boundary);
        return static_cast<int>(std::max<int64_t>(0, until - now + kMillisecond - 1) /
                                kMillisecond);
    }

    void beat(size_t p, uint32_t slot)
    {
        const bool counted = inWindow(beatTime(p, slot));
        if (counted)
            ++m_beatsInWindow;
        Peer &peer = m_peers[p];
        if (m_settings.webSocket) {
            if (peer.stream.phase == Phase::Open)
                sendHeartbeatFrame(p, slot);
            else if (counted)
                ++m_beatsSkippedInWindow;
            return;
        }
        if (!peer.announced) {
            // The `online` was refused (or its connection lost): the peer says it again rather
            // than this heartbeat, as seed-era clients never retry it on their own.
            if (peer.control.phase == Phase::Open && !peer.publishInFlight)
                sendOnline(p);
            if (counted)
                ++m_beatsSkippedInWindow;
            return;
        }
        const Heartbeat heartbeat{slot, realtimeNs()};
        if (peer.control.phase == Phase::Open && !peer.publishInFlight) {
            sendHeartbeatPost(p, heartbeat);
            return;
        }
        // One request at a time per connection, as an HTTP client does: a heartbeat that falls
        // due while the previous one is unanswered, or while the connection is redialled, waits.
        owe(p, heartbeat);
        ++m_publishesDelayed;
    }

    // At most one heartbeat waits per peer: a newer one replaces it, and it is given up.
    void owe(size_t p, const Heartbeat &heartbeat)
    {
        Peer &peer = m_peers[p];
        if (peer.beatOwed && inWindow(beatTime(p, peer.owed.slot)))
            ++m_beatsSkippedInWindow;
        peer.owed = heartbeat;
        peer.beatOwed = true;
    }

    void sendOwed(size_t p)
    {
        Peer &peer = m_peers[p];
        if (!peer.beatOwed)
            return;
        peer.beatOwed = false;
        sendHeartbeatPost(p, peer.owed);
    }

    // --- messages -------------------------------------------------------------------------

    // The `online` when heartbeat is null.
    size_t formatMessage(char *out, size_t capacity, size_t p, const Heartbeat *heartbeat) const
    {
        const long long unixMs = realtimeNs() / kMillisecond;
        if (!heartbeat)
            return static_cast<size_t>(std::snprintf(
                out, capacity,
                "{\"type\":\"online\",\"peerId\":\"%s\",\"content\":\"meshbench peer\","
                "\"ts\":%lld}",
                m_ids[p].c_str(), unixMs));
        return static_cast<size_t>(std::snprintf(
            out, capacity,
            "{\"type\":\"update\",\"peerId\":\"%s\",\"content\":\"%s%zu:%u:%lld\",\"ts\":%lld}",
            m_ids[p].c_str(), kMarker, p, heartbeat->slot,
            static_cast<long long>(heartbeat->sentNs), unixMs));
    }

    void sendPost(size_t p, const Heartbeat *heartbeat)
    {
        char body[512];
        const size_t bodyLength = formatMessage(body, sizeof body, p, heartbeat);
        char request[768];
        const int length = std::snprintf(
            request, sizeof request,
            "POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: %zu\r\n\r\n%s",
            bodyLength, body);
        m_peers[p].publishInFlight = true;
        if (heartbeat)
            m_peers[p].inFlight = *heartbeat;
        write(tagOf(p, false), request, static_cast<size_t>(length));
    }

    void sendOnline(size_t p)
    {
        m_peers[p].onlineSent = m_peers[p].onlineInFlight = true;
        sendPost(p, nullptr);
    }

    void sendHeartbeatPost(size_t p, const Heartbeat &heartbeat) { sendPost(p, &heartbeat); }

    // A client's frame must be masked; an all-zero mask leaves the payload as it is, which
    // the server cannot tell from any other key, and saves masking every byte.
    void sendHeartbeatFrame(size_t p, uint32_t slot)
    {
        char frame[520];
        const Heartbeat heartbeat{slot, realtimeNs()};
        const size_t length = formatMessage(frame + 8, sizeof frame - 8, p, &heartbeat);
        frame[0] = static_cast<char>(0x81);
        frame[1] = static_cast<char>(0x80 | 126);
        frame[2] = static_cast<char>(length >> 8);
        frame[3] = static_cast<char>(length & 0xFF);
        std::memset(frame + 4, 0, 4);
        write(tagOf(p, true), frame, length + 8);
    }

    // --- links ----------------------------------------------------------------------------

    void openLink(uint64_t tag)
    {
        Link &link = linkOf(tag);
        link.fd = openSocket();
        if (isStream(tag) && m_settings.kernelTimestamps) {
            const int one = 1;
            setsockopt(link.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
        }
        bindPeerAddress(link.fd, peerOf(tag));
        link.phase = Phase::Connecting;
        ++m_handshakes;
        if (!startConnect(link.fd, m_settings.port)) {
            ++m_connectFailures;
            linkFailed(tag);
            return;
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u64 = tag;
        link.wantsWrite = true;
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, link.fd, &ev);
    }

    void closeLink(uint64_t tag)
    {
        Link &link = linkOf(tag);
        if (link.fd < 0)
            return;
        if (link.phase == Phase::Connecting || link.phase == Phase::AwaitingHead ||
            link.phase == Phase::AwaitingOk)
            --m_handshakes;
        if (isStream(tag) && link.phase == Phase::Open)
            --m_streamsOpen;
        epoll_ctl(m_epoll, EPOLL_CTL_DEL, link.fd, nullptr);
        closeAbortive(link.fd);
        link.fd = -1;
        link.phase = Phase::Closed;
        link.wantsWrite = false;
        link.lastReplyOk = false;
        link.inbox.clear();
        link.outbox.clear();
        link.chunked.reset();
        if (isStream(tag))
            m_peers[peerOf(tag)].eventId.clear(); // an event cut off is not complete
        if (!isStream(tag)) {
            // A heartbeat cut off before its reply goes again on the next connection, as a client
            // retries a request its connection lost (a second copy, if the server had taken the
            // first, is counted as a duplicate, never as a delivery).
            const size_t p = peerOf(tag);
            Peer &peer = m_peers[p];
            if (peer.publishInFlight && !peer.onlineInFlight) {
                ++m_publishesResent;
                if (peer.beatOwed && inWindow(beatTime(p, peer.inFlight.slot)))
                    ++m_beatsSkippedInWindow;
                else if (!peer.beatOwed)
                    owe(p, peer.inFlight);
            }
            peer.publishInFlight = peer.onlineInFlight = false;
        }
    }

    void retryLater(uint64_t tag, int64_t delayNs)
    {
        m_retries.emplace_back(nowNs() + delayNs, tag);
        std::push_heap(m_retries.begin(), m_retries.end(), std::greater<>());
    }

    // Reconnects as the clients do: the seed-era client's stream with a back-off from 250 ms
    // doubling to 8 s; today's client starts over (`online`, then the upgrade) after 250 ms.
    void linkFailed(uint64_t tag, int64_t delayNs = 250 * kMillisecond)
    {
        closeLink(tag);
        const size_t p = peerOf(tag);
        if (m_settings.webSocket) {
            retryLater(tagOf(p, false), delayNs);
            return;
        }
        if (isStream(tag)) {
            Peer &peer = m_peers[p];
            const int64_t backoff = (250 * kMillisecond) << std::min<int>(peer.streamRetries, 5);
            peer.streamRetries = static_cast<uint8_t>(std::min(peer.streamRetries + 1, 100));
            retryLater(tag, std::max(delayNs, backoff));
            return;
        }
        retryLater(tag, delayNs);
    }

    void streamLost(uint64_t tag)
    {
        ++m_streamDrops;
        if (inWindow(nowNs()))
            ++m_streamDropsInWindow;
        linkFailed(tag);
    }

    void write(uint64_t tag, const char *data, size_t size)
    {
        Link &link = linkOf(tag);
        if (link.fd < 0)
            return;
        if (link.outbox.empty()) {
            const ssize_t n = send(link.fd, data, size, MSG_NOSIGNAL);
            if (n == static_cast<ssize_t>(size))
                return;
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                isStream(tag) && link.phase == Phase::Open ? streamLost(tag) : linkFailed(tag);
                return;
            }
            const size_t sent = n > 0 ? static_cast<size_t>(n) : 0;
            link.outbox.append(data + sent, size - sent);
        } else {
            link.outbox.append(data, size);
        }
        watchWrites(tag, true);
    }

    void watchWrites(uint64_t tag, bool on)
    {
        Link &link = linkOf(tag);
        if (link.wantsWrite == on)
            return;
        link.wantsWrite = on;
        epoll_event ev{};
        ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
        ev.data.u64 = tag;
        epoll_ctl(m_epoll, EPOLL_CTL_MOD, link.fd, &ev);
    }

    void flush(uint64_t tag)
    {
        Link &link = linkOf(tag);
        while (!link.outbox.empty()) {
            const ssize_t n = send(link.fd, link.outbox.data(), link.outbox.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    return;
                isStream(tag) && link.phase == Phase::Open ? streamLost(tag) : linkFailed(tag);
                return;
            }
            link.outbox.erase(0, static_cast<size_t>(n));
        }
        watchWrites(tag, false);
    }

    void handle(uint64_t tag, uint32_t events, int64_t at)
    {
        Link &link = linkOf(tag);
        if (link.fd < 0)
            return;
        if (link.phase == Phase::Connecting) {
            if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                connected(tag);
            return;
        }
        if (events & EPOLLOUT)
            flush(tag);
        if (link.fd >= 0 && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
            isStream(tag) ? readStream(tag, at) : readControl(tag);
    }

    void connected(uint64_t tag)
    {
        Link &link = linkOf(tag);
        const size_t p = peerOf(tag);
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(link.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            ++m_connectFailures;
            linkFailed(tag);
            return;
        }
        if (!isStream(tag)) {
            link.phase = Phase::Open;
            --m_handshakes;
            watchWrites(tag, false);
            if (!m_peers[p].onlineSent || m_settings.webSocket)
                sendOnline(p);
            else if (m_peers[p].announced)
                sendOwed(p);
            return;
        }
        link.phase = Phase::AwaitingHead;
        watchWrites(tag, false);
        // Today's client: no Origin, no extension, no sub-protocol.
        const std::string request =
            m_settings.webSocket ? "GET /ws?peer_id=" + m_ids[p] +
                                       " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                       "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                                 : "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   "Accept: text/event-stream\r\n" +
                                       resumeHeader(p) + "\r\n";
        write(tag, request.data(), request.size());
    }

    void streamOpened(uint64_t tag)
    {
        linkOf(tag).phase = Phase::Open;
        --m_handshakes;
        ++m_streamsOpen;
        m_peers[peerOf(tag)].streamRetries = 0;
    }

    // --- the control connection: replies to publishes --------------------------------------

    void readControl(uint64_t tag)
    {
        Link &link = linkOf(tag);
        const ssize_t n = recv(link.fd, m_buffer, sizeof m_buffer, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            // A server may end a keep-alive connection between requests (the Go references
            // after 5 s idle, a heartbeat period): a peer redials at once, unless refused.
            ++m_controlRedials;
            linkFailed(tag, link.lastReplyOk ? 0 : 250 * kMillisecond);
            return;
        }
        link.inbox.append(m_buffer, static_cast<size_t>(n));
        int status = 0;
        size_t total = 0;
        int state = 0;
        while (link.fd >= 0 && (state = parsePublishReply(link.inbox, status, total)) == 1) {
            link.inbox.erase(0, total);
            link.lastReplyOk = status == 204;
            answered(peerOf(tag), status);
        }
        if (link.fd >= 0 && state < 0) {
            ++m_publishErrors[-1];
            linkFailed(tag);
        }
    }

    void answered(size_t p, int status)
    {
        Peer &peer = m_peers[p];
        const bool wasOnline = peer.onlineInFlight;
        if (m_ledger && status == 204 && !wasOnline && peer.publishInFlight &&
            inWindow(beatTime(p, peer.inFlight.slot))) {
            m_ledger->accepted(p, peer.inFlight.slot);
            ++m_accepted;
        }
        peer.publishInFlight = peer.onlineInFlight = false;
        if (status != 204)
            ++m_publishErrors[status];
        if (wasOnline && status == 204 && !peer.announced) {
            peer.announced = true;
            ++m_announced;
        }
        if (m_settings.webSocket) {
            // Announced: the upgrade comes next; refused: start over in a moment.
            closeLink(tagOf(p, false));
            if (status == 204)
                m_connectQueue.push_back(tagOf(p, true));
            else
                retryLater(tagOf(p, false), 500 * kMillisecond);
            return;
        }
        if (peer.announced)
            sendOwed(p);
    }

    // --- the stream: events ---------------------------------------------------------------

    void readStream(uint64_t tag, int64_t at)
    {
        Link &link = linkOf(tag);
        bool stamped = false;
        const ssize_t n = receiveStamped(link.fd, m_buffer, sizeof m_buffer, at, stamped);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            link.phase == Phase::Open ? streamLost(tag) : linkFailed(tag);
            return;
        }
        ++(stamped ? m_kernelStamped : m_clientStamped);
        const auto size = static_cast<size_t>(n);
        if (link.phase == Phase::AwaitingHead) {
            link.inbox.append(m_buffer, size);
            responseHead(tag, at);
            return;
        }
        consume(tag, m_buffer, size, at);
    }

    // Feeds bytes to the line or frame parser, without copying them when nothing was pending.
    void consume(uint64_t tag, const char *data, size_t size, int64_t at)
    {
        Link &link = linkOf(tag);
        if (!link.chunked) {
            consumeBody(tag, data, size, at);
            return;
        }
        m_decoded.clear();
        const bool open = link.chunked->feed(data, size, m_decoded);
        consumeBody(tag, m_decoded.data(), m_decoded.size(), at);
        if (!open && link.fd >= 0)
            streamLost(tag); // the server (or the proxy) ended the response
    }

    void consumeBody(uint64_t tag, const char *data, size_t size, int64_t at)
    {
        Link &link = linkOf(tag);
        const auto parse = [&](const char *bytes, size_t length) {
            return m_settings.webSocket ? frames(tag, bytes, length, at)
                                        : lines(tag, bytes, length, at);
        };
        if (link.inbox.empty()) {
            const size_t used = parse(data, size);
            if (link.fd >= 0 && used < size)
                link.inbox.assign(data + used, size - used);
            return;
        }
        link.inbox.append(data, size);
        std::string pending;
        pending.swap(link.inbox);
        const size_t used = parse(pending.data(), pending.size());
        if (link.fd >= 0 && used < pending.size())
            link.inbox.assign(pending, used, std::string::npos);
    }

    void responseHead(uint64_t tag, int64_t at)
    {
        Link &link = linkOf(tag);
        const size_t headEnd = link.inbox.find("\r\n\r\n");
        if (headEnd == std::string::npos) {
            if (link.inbox.size() > 16384)
                linkFailed(tag);
            return;
        }
        const int status = link.inbox.size() > 12 ? std::atoi(link.inbox.c_str() + 9) : 0;
        if (status != (m_settings.webSocket ? 101 : 200)) {
            if (m_settings.webSocket && status == 425)
                ++m_wsTooEarly;
            else
                ++m_streamRefusals[status];
            // 425 (the peer is not known yet): today's client dials again after 250 ms; any
            // other refusal (a 429 or 503 under load): after 500 ms, or the SSE back-off.
            linkFailed(tag, (status == 425 ? 250 : 500) * kMillisecond);
            return;
        }
        std::string rest = link.inbox.substr(headEnd + 4);
        for (size_t pos = link.inbox.find("\r\n") + 2; pos < headEnd + 2;) {
            const size_t eol = link.inbox.find("\r\n", pos);
            const char *line = link.inbox.data() + pos;
            if (headerIs(line, eol - pos, "transfer-encoding") &&
                std::string(line, eol - pos).find("chunked") != std::string::npos)
                link.chunked.emplace();
            pos = eol + 2;
        }
        link.inbox.clear();
        if (m_settings.webSocket)
            streamOpened(tag);
        else
            link.phase = Phase::AwaitingOk;
        if (!rest.empty())
            consume(tag, rest.data(), rest.size(), at);
    }

    // Handles the complete lines of data; returns the bytes used (a partial line is not).
    size_t lines(uint64_t tag, const char *data, size_t size, int64_t at)
    {
        Link &link = linkOf(tag);
        const char *p = data;
        const char *end = data + size;
        while (p < end) {
            const auto *eol = static_cast<const char *>(std::memchr(p, '\n', end - p));
            if (!eol)
                break;
            const auto length = static_cast<size_t>(eol - p);
            if (length > 5 && std::memcmp(p, "data:", 5) == 0) {
                if (const auto *mark =
                        static_cast<const char *>(memmem(p, length, kMarker, kMarkerLength)))
                    delivered(peerOf(tag), mark + kMarkerLength, eol, at);
            } else if (link.phase == Phase::AwaitingOk && length >= 4 &&
                       std::memcmp(p, ": ok", 4) == 0) {
                streamOpened(tag);
            } else if (m_ledger) {
                eventLine(peerOf(tag), p, length);
            }
            p = eol + 1;
        }
        return static_cast<size_t>(p - data);
    }

    // Handles the complete frames of data (the server's: unmasked); returns the bytes used.
    // Text frames are events; a ping is answered, as clients do, or the server would close
    // the connection after 15 s; a close frame ends the connection, and the peer rejoins.
    size_t frames(uint64_t tag, const char *data, size_t size, int64_t at)
    {
        size_t pos = 0;
        while (size - pos >= 2) {
            const auto *b = reinterpret_cast<const unsigned char *>(data + pos);
            size_t header = 2;
            uint64_t length = b[1] & 0x7F;
            if (length == 126) {
                header = 4;
                if (size - pos < header)
                    break;
                length = (uint64_t(b[2]) << 8) | b[3];
            } else if (length == 127) {
                header = 10;
                if (size - pos < header)
                    break;
                length = 0;
                for (int k = 2; k < 10; ++k)
                    length = (length << 8) | b[k];
            }
            if (size - pos < header + length)
                break;
            const char *payload = data + pos + header;
            const auto payloadLength = static_cast<size_t>(length);
            pos += header + payloadLength;
            const int opcode = b[0] & 0x0F;
            if (opcode == 0x1) {
                if (const auto *mark = static_cast<const char *>(
                        memmem(payload, payloadLength, kMarker, kMarkerLength)))
                    delivered(peerOf(tag), mark + kMarkerLength, payload + payloadLength, at);
            } else if (opcode == 0x9 && payloadLength <= 125) {
                // The pong carries the ping's payload back, masked (with zeros).
                char pong[6 + 125] = {static_cast<char>(0x8A),
                                      static_cast<char>(0x80 | payloadLength)};
                std::memcpy(pong + 6, payload, payloadLength);
                write(tag, pong, 6 + payloadLength);
            } else if (opcode == 0x8) {
                streamLost(tag);
                return pos;
            }
            if (linkOf(tag).fd < 0)
                return pos;
        }
        return pos;
    }

    // The first few duplicates and out-of-order arrivals, with the event's ID (which tells a
    // cluster entry from an instance's local event) and the subscriber's resumptions so far:
    // what a soak's report needs to find where they come from.
    void describeAnomaly(const char *what, size_t subscriber, uint64_t publisher, uint64_t slot)
    {
        if (m_anomaliesDescribed >= 40)
            return;
        ++m_anomaliesDescribed;
        std::fprintf(stderr,
                     "meshbench: %s: subscriber %zu got publisher %llu's beat %llu as %s "
                     "(after %s; %llu resumed, %llu resets overall)\n",
                     what, subscriber, static_cast<unsigned long long>(publisher),
                     static_cast<unsigned long long>(slot), m_peers[subscriber].eventId.c_str(),
                     m_peers[subscriber].lastEventId.c_str(),
                     static_cast<unsigned long long>(m_resumed),
                     static_cast<unsigned long long>(m_resets));
    }

    // One event with our marker reached `subscriber`: "<publisher>:<slot>:<sent ns>" at text.
    void delivered(size_t subscriber, const char *text, const char *end, int64_t at)
    {
        uint64_t publisher = 0, slot = 0, sent = 0;
        if (!readNumber(text, end, publisher) || text == end || *text++ != ':' ||
            !readNumber(text, end, slot) || text == end || *text++ != ':' ||
            !readNumber(text, end, sent) || publisher >= m_peers.size()) {
            ++m_strays;
            return;
        }
        if (m_ledger && inWindow(beatTime(static_cast<size_t>(publisher), slot))) {
            // A subscriber that started over from a snapshot no longer counts (its snapshot
            // repeats what it had): only the books of those that kept up are checked.
            const bool counts = !m_ledger->wasReset(subscriber);
            switch (m_ledger->received(subscriber, static_cast<size_t>(publisher), slot)) {
            case SoakLedger::Arrival::Duplicate:
                if (counts) {
                    ++m_duplicates;
                    countBySlot(m_duplicatesBySlot, slot);
                    describeAnomaly("duplicate", subscriber, publisher, slot);
                }
                return;
            case SoakLedger::Arrival::OutOfOrder:
                if (counts) {
                    ++m_outOfOrder;
                    countBySlot(m_outOfOrderBySlot, slot);
                    describeAnomaly("out of order", subscriber, publisher, slot);
                }
                break;
            case SoakLedger::Arrival::InOrder:
                break;
            }
        } else {
            // Every server here writes a subscriber's events in order, so an event not newer
            // than the last one seen from that publisher is a second copy.
            uint16_t &last = m_lastSlot[subscriber * m_peers.size() + publisher];
            if (slot + 1 <= last) {
                ++m_duplicates;
                return;
            }
            last = static_cast<uint16_t>(std::min<uint64_t>(slot + 1, UINT16_MAX));
        }
        const bool own = publisher == subscriber;
        const bool wanted = !own || m_settings.expectOwnEvents;
        const int64_t atMonotonic = at - m_realOffset;
        if (inWindow(atMonotonic)) {
            ++m_windowAllEvents;
            if (wanted)
                ++m_windowEvents;
        }
        if (own)
            ++m_ownEvents;
        if (!wanted || !inWindow(beatTime(static_cast<size_t>(publisher), slot)))
            return;
        ++m_delivered;
        m_latency.add(at - static_cast<int64_t>(sent));
    }

    // --- the soak ---------------------------------------------------------------------------

    // Once the window is open: the slow subscribers' reads, the vanishing streams, progress.
    void soakChores(int64_t now)
    {
        if (!inWindow(now))
            return;
        if (m_slow && now >= m_nextSlowTick) {
            m_slow->tick(now);
            m_nextSlowTick = now + kSecond;
        }
        // Peer i's stream vanishes (RST, not a word) every vanishEvery, i's share of it in,
        // and comes back 2 s later with its Last-Event-ID.
        while (m_settings.vanishing > 0 &&
               m_windowStart + static_cast<int64_t>(m_vanishRound) * m_settings.vanishEveryNs +
                       static_cast<int64_t>(m_vanishPeer) * m_settings.vanishEveryNs /
                           static_cast<int64_t>(m_settings.vanishing) <=
                   now) {
            const uint64_t tag = tagOf(m_vanishPeer, true);
            if (linkOf(tag).phase == Phase::Open) {
                closeLink(tag);
                retryLater(tag, 2 * kSecond);
                ++m_vanished;
            }
            if (++m_vanishPeer == m_settings.vanishing) {
                m_vanishPeer = 0;
                ++m_vanishRound;
            }
        }
        if (now >= m_nextProgress) {
            m_nextProgress = now + m_settings.progressNs;
            JsonObject line;
            line.text("state", "progress")
                .number("t_s", static_cast<double>(now - m_windowStart) / 1e9, 1)
                .integer("streams_open", m_streamsOpen)
                .integer("accepted", m_accepted)
                .integer("delivered", m_delivered)
                .integer("out_of_order", m_outOfOrder)
                .integer("duplicates", m_duplicates)
                .integer("resumed", m_resumed)
                .integer("resets", m_resets)
                .integer("stream_drops", m_streamDrops)
                .integer("vanished", m_vanished)
                .integer("slow_drops", m_slow ? m_slow->drops() : 0)
                .object("publish_errors", countsByStatus(m_publishErrors))
                .object("stream_refusals", countsByStatus(m_streamRefusals));
            std::printf("%s\n", line.str().c_str());
            std::fflush(stdout);
        }
    }

    std::string resumeHeader(size_t p) const
    {
        const std::string &id = m_peers[p].lastEventId;
        return m_ledger && !id.empty() ? "Last-Event-ID: " + id + "\r\n" : std::string();
    }

    // An event's id (kept when the event is complete: a stream cut in the middle of one
    // resumes before it) and the markers of a resumption.
    void eventLine(size_t p, const char *line, size_t length)
    {
        Peer &peer = m_peers[p];
        if (length == 0 && !peer.eventId.empty()) {
            peer.lastEventId.swap(peer.eventId);
            peer.eventId.clear();
        } else if (length > 3 && std::memcmp(line, "id:", 3) == 0) {
            const size_t skip = line[3] == ' ' ? 4 : 3;
            peer.eventId.assign(line + skip, length - skip);
        } else if (length == 14 && std::memcmp(line, "event: resumed", 14) == 0) {
            ++m_resumed;
        } else if (length == 12 && std::memcmp(line, "event: reset", 12) == 0) {
            ++m_resets;
            m_ledger->reset(p);
        }
    }

    static void countBySlot(std::vector<uint64_t> &bySlot, uint64_t slot)
    {
        if (bySlot.size() <= slot)
            bySlot.resize(slot + 1);
        ++bySlot[slot];
    }

    // Counts by heartbeat slot summed by the 10 s (of the wall clock, as [unix seconds, count])
    // their heartbeats were due in, to be set against the faults' times.
    std::string byTenSeconds(const std::vector<uint64_t> &bySlot) const
    {
        std::map<int64_t, uint64_t> buckets;
        for (size_t slot = 0; slot < bySlot.size(); ++slot)
            if (bySlot[slot] > 0)
                buckets[(beatTime(0, slot) + m_realOffset) / (10 * kSecond) * 10] += bySlot[slot];
        std::string text = "[";
        for (const auto &[second, count] : buckets)
            text += (text.size() > 1 ? ",[" : "[") + std::to_string(second) + "," +
                    std::to_string(count) + "]";
        return text + "]";
    }

    // The soak's books: every accepted heartbeat against what each subscriber got.
    JsonObject soakReport() const
    {
        const SoakLedger::Totals totals = m_ledger->totals();
        JsonObject soak;
        soak.integer("accepted", totals.accepted)
            .integer("kept_up", totals.keptUp)
            .integer("expected", totals.expected)
            .integer("missing", totals.missing)
            .raw("missing_by_10s", byTenSeconds(totals.missingBySlot))
            .integer("superseded", totals.superseded)
            .raw("superseded_by_10s", byTenSeconds(totals.supersededBySlot))
            .integer("out_of_order", m_outOfOrder)
            .raw("out_of_order_by_10s", byTenSeconds(m_outOfOrderBySlot))
            .integer("duplicates", m_duplicates)
            .raw("duplicates_by_10s", byTenSeconds(m_duplicatesBySlot))
            .integer("resumed", m_resumed)
            .integer("resets", m_resets)
            .integer("vanished", m_vanished)
            .integer("slow_opened", m_slow ? m_slow->opened() : 0)
            .integer("slow_drops", m_slow ? m_slow->drops() : 0);
        return soak;
    }

    const Settings m_settings;
    int m_epoll = -1;
    std::vector<Peer> m_peers;
    std::vector<std::string> m_ids;
    // For each (subscriber, publisher): 1 + the last slot seen, 0 for none (32 MB at 4,000).
    std::vector<uint16_t> m_lastSlot;
    std::unique_ptr<SoakLedger> m_ledger;    // a soak's
    std::unique_ptr<SlowSubscribers> m_slow; // a soak's
    uint64_t m_accepted = 0;                 // heartbeats answered 204, in the window
    uint64_t m_outOfOrder = 0;
    std::vector<uint64_t> m_outOfOrderBySlot, m_duplicatesBySlot;
    uint64_t m_resumed = 0; // streams that resumed where they were
    unsigned m_anomaliesDescribed = 0;
    uint64_t m_resets = 0; // streams that could not: they started over
    uint64_t m_vanished = 0;
    size_t m_vanishPeer = 0;
    uint64_t m_vanishRound = 0;
    int64_t m_nextSlowTick = 0;
    int64_t m_nextProgress = 0;
    LatencyHistogram m_latency;
    const std::vector<pid_t> m_softirqPids = softirqThreads();

    std::deque<uint64_t> m_connectQueue;
    std::vector<std::pair<int64_t, uint64_t>> m_retries; // (when, tag), a heap: soonest first
    size_t m_handshakes = 0;
    size_t m_streamsOpen = 0;
    size_t m_announced = 0;

    int64_t m_t0 = 0;
    int64_t m_realOffset = 0; // CLOCK_REALTIME minus CLOCK_MONOTONIC
    size_t m_beatPeer = 0;
    uint32_t m_beatSlot = 0;
    int64_t m_connectedAt = 0;
    int64_t m_windowStart = 0;
    int64_t m_windowEnd = 0;
    int64_t m_deadline = 0;
    ProcSample m_windowStartSample;
    ProcSample m_windowEndSample;
    size_t m_readyAtStart = 0;

    uint64_t m_beatsInWindow = 0;
    uint64_t m_beatsSkippedInWindow = 0;
    uint64_t m_delivered = 0;       // of the window's heartbeats, by the deadline
    uint64_t m_windowEvents = 0;    // deliveries wanted that arrived inside the window
    uint64_t m_windowAllEvents = 0; // with the peers' own events, wanted or not
    uint64_t m_ownEvents = 0;
    uint64_t m_duplicates = 0;
    uint64_t m_strays = 0;
    uint64_t m_publishesDelayed = 0;
    uint64_t m_publishesResent = 0; // cut off by a connection's end before their reply
    uint64_t m_controlRedials = 0;  // publish connections the server ended
    uint64_t m_wsTooEarly = 0;
    uint64_t m_connectFailures = 0;
    uint64_t m_streamDrops = 0;
    uint64_t m_streamDropsInWindow = 0;
    uint64_t m_kernelStamped = 0;
    uint64_t m_clientStamped = 0;
    std::map<int, uint64_t> m_publishErrors;  // status (-1: unreadable reply) -> count
    std::map<int, uint64_t> m_streamRefusals; // status -> count, the WebSocket's 425 apart
    char m_buffer[65536];
    std::string m_decoded; // a chunked read's body bytes
};

using Options = CommandLine;

void usage()
{
    std::fputs(
        "usage: goop-meshbench --port P --peers N [options]   (talks to 127.0.0.1 only)\n"
        "  --transport sse|ws     seed-era (POST /publish + GET /events) or today's (GET /ws)\n"
        "  --seconds S            the measured window (default 30)\n"
        "  --period-ms M          heartbeat period (default 5000)\n"
        "  --warmup-s W           after every peer is ready, before the window (default 6,\n"
        "                         at least one period)\n"
        "  --grace-s G            wait for the window's last deliveries (default 5)\n"
        "  --connect-timeout-s T  start the window anyway after this (default 60)\n"
        "  --batch B              TCP/HTTP handshakes in flight (default 64)\n"
        "  --read-pace-ms R       read at most every R ms, so that each read takes several\n"
        "                         events: a cheaper generator, but a read's kernel timestamp is\n"
        "                         its last packet's, so latencies may be up to R ms high\n"
        "  --own-events expected|ignored   must a peer get its own heartbeats (default expected:\n"
        "                         every server relays a publish to all, the sender included)\n"
        "  --timestamps kernel|read        delivery time (default kernel: SO_TIMESTAMPNS)\n"
        "  --server-pid PID       also report the server's CPU, RSS and the machine's load\n"
        "  --soak 1               a soak (tests/soak/run-soak.py): streams resume with\n"
        "                         Last-Event-ID, every accepted heartbeat is checked off per\n"
        "                         subscriber, a progress line every 10 s\n"
        "  --slow K               (soak) K more subscribers reading 4 KiB a second\n"
        "  --vanishing V          (soak) V peers' streams vanish once a minute, back 2 s later\n",
        stderr);
}

} // namespace

int main(int argc, char **argv)
{
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string name = argv[i];
        if (name.rfind("--", 0) != 0 || i + 1 >= argc) {
            usage();
            return 2;
        }
        options.values[name.substr(2)] = argv[++i];
    }
    Settings settings;
    settings.port = static_cast<int>(options.number("port", 0));
    if (settings.port <= 0 || settings.port > 65535) {
        usage();
        return 2;
    }
    settings.peers = static_cast<size_t>(options.number("peers", 100));
    const std::string transport = options.text("transport", "sse");
    if (transport != "sse" && transport != "ws")
        die("--transport is sse or ws");
    settings.webSocket = transport == "ws";
    settings.windowNs = options.number("seconds", 30) * kSecond;
    settings.periodNs = std::max(1LL, options.number("period-ms", 5000)) * kMillisecond;
    settings.warmupNs = options.number("warmup-s", 6) * kSecond;
    settings.graceNs = options.number("grace-s", 5) * kSecond;
    settings.connectTimeoutNs = options.number("connect-timeout-s", 60) * kSecond;
    settings.handshakesInFlight = static_cast<size_t>(std::max(1LL, options.number("batch", 64)));
    settings.readPaceNs = options.number("read-pace-ms", 0) * kMillisecond;
    settings.expectOwnEvents = options.text("own-events", "expected") == "expected";
    settings.kernelTimestamps = options.text("timestamps", "kernel") == "kernel";
    settings.serverPid = static_cast<pid_t>(options.number("server-pid", 0));
    settings.soak = options.text("soak", "0") == "1";
    settings.slowSubscribers = static_cast<size_t>(options.number("slow", 0));
    settings.vanishing = static_cast<size_t>(options.number("vanishing", 0));
    if (settings.soak && settings.webSocket)
        die("--soak is for event streams (--transport sse): /ws has no resumption");
    if (settings.vanishing > settings.peers)
        die("--vanishing must not exceed --peers");
    // 1 + the peer index fits 127.1.x.y with x < 256; the slot table is N² entries.
    if (settings.peers < 2 || settings.peers > 250 * 256)
        die("--peers must be between 2 and 64000");

    const size_t descriptors = raiseFileLimit();
    const size_t needed = settings.peers * (settings.webSocket ? 1 : 2) + 64;
    if (needed > descriptors)
        die("needs " + std::to_string(needed) + " descriptors, the limit is " +
            std::to_string(descriptors));
    // A connection the server drops must show up as a count, not kill the tool.
    std::signal(SIGPIPE, SIG_IGN);

    MeshGenerator mesh(settings);
    mesh.run();
    mesh.report();
    return 0;
}
