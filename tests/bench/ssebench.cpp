// goop-ssebench: the load generator behind tests/bench/run-benchmarks.sh.
//
// One thread, plain sockets and epoll, no Qt: the benchmark runs on the same two cores as
// the server under test, so every cycle the client spends is a cycle the server does not get.
// It only ever connects to 127.0.0.1.
//
//   fanout   --port P --subscribers N --publishes K --interval-ms M [--subscribe-ports P1,P2]
//            N SSE subscribers, then K publishes; per-event delivery latency (publish sent
//            to the kernel's receive timestamp of the data line, both CLOCK_REALTIME), losses.
//            Publishes go to --port; subscribers are spread round-robin over --subscribe-ports
//            (default: --port), which measures delivery between instances sharing a Redis.
//   hold     --port P --subscribers N [--ready-file F]
//            N idle SSE subscribers kept open until SIGTERM/SIGINT (for memory and for
//            throughput under idle streams); prints a JSON line once all are connected.
//   idle     --port P --connections N [--ready-file F] [--hold-s S]
//            N keep-alive connections, each idle after one GET /healthz, kept open until
//            SIGTERM/SIGINT (what many idle HTTP clients cost everyone else's requests).
//   latency  --port P --requests N --path /healthz|/peers.json|publish [--seconds S]
//            one client, sequential requests on one keep-alive connection (for at most S s).
//   register --port P --peers N [--connections C] [--offset O]
//            N distinct "online" peers as fast as a few keep-alive connections go.
//   resume   --port P --subscribers N --missed K
//            K events published, then N subscribers reconnect at once with the Last-Event-ID
//            from before them: seconds until every one has had the K replayed.
//
// fanout and hold take --transport ws: the subscribers are today's clients on GET /ws, each
// as peer i (peerId(i): register them first, or the server answers 425), reading text frames
// and answering pings. Every mode takes --sources S: connection k comes from loopback address
// 127.1.x.y, the (k mod S)-th, so that a server counting per client address (the current Go
// server: 60 publishes a minute, 100 WebSockets) sees a network of S hosts.
//
// Every mode prints one JSON object on stdout (hold prints one when ready and one at exit).

#include "loopbackclient.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <functional>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using namespace loopback;

// Milliseconds since the epoch, for the `ts` of a publish.
int64_t unixMs()
{
    return realtimeNs() / kMillisecond;
}

std::string publishRequest(const std::string &type, const std::string &id,
                           const std::string &content)
{
    const std::string body = "{\"type\":\"" + type + "\",\"peerId\":\"" + id + "\",\"content\":\"" +
                             content + "\",\"ts\":" + std::to_string(unixMs()) + "}";
    return "POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string getRequest(const std::string &path, const std::string &headers = {})
{
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
}

size_t g_sources = 1;

// The source of a tool's own requests (publishes, latency probes): an address of its own, past
// the subscribers' and registrations', so that their per-address counts never meet.
constexpr size_t kOwnSource = SIZE_MAX;

// Binds `fd` to the (k mod --sources)-th loopback source address; nothing with one source.
void bindSource(int fd, size_t k)
{
    if (g_sources > 1)
        bindSourceAddress(fd, static_cast<uint32_t>(k == kOwnSource ? g_sources : k % g_sources));
}

// The opening handshake of today's client (no Origin, no extension, no sub-protocol).
std::string upgradeRequest(const std::string &peer)
{
    return "GET /ws?peer_id=" + peer +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
}

// A blocking connection, for the sequential clients; `source` picks its loopback address.
int connectBlocking(int port, size_t source = kOwnSource)
{
    const int fd = openSocket();
    bindSource(fd, source);
    if (!startConnect(fd, port))
        die(std::string("connect: ") + std::strerror(errno));
    pollfd waitFor{fd, POLLOUT, 0};
    if (poll(&waitFor, 1, 10000) != 1)
        die("connect: timed out");
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0)
        die(std::string("connect: ") + std::strerror(err));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

bool sendAll(int fd, const std::string &data)
{
    size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return false;
        }
    }
    return true;
}

// One HTTP/1.1 response found at the front of a buffer.
struct Response
{
    int status = 0;
    size_t total = 0; // bytes of the whole response (head + body)
    size_t bodyBytes = 0;
};

// 1: a complete response is at the front of buf; 0: need more bytes; -1: not HTTP we can read.
// Handles Content-Length and chunked bodies (Go streams large bodies chunked).
int parseResponse(const std::string &buf, Response &out)
{
    const size_t headEnd = buf.find("\r\n\r\n");
    if (headEnd == std::string::npos)
        return buf.size() > 65536 ? -1 : 0;
    if (buf.compare(0, 5, "HTTP/") != 0 || headEnd < 12)
        return -1;
    out.status = std::atoi(buf.c_str() + 9);
    long long contentLength = -1;
    bool chunked = false;
    size_t pos = buf.find("\r\n") + 2;
    while (pos < headEnd) {
        const size_t eol = buf.find("\r\n", pos);
        const char *line = buf.data() + pos;
        const size_t lineLen = eol - pos;
        if (headerIs(line, lineLen, "content-length"))
            contentLength = std::atoll(line + 15);
        else if (headerIs(line, lineLen, "transfer-encoding") &&
                 std::string(line, lineLen).find("chunked") != std::string::npos)
            chunked = true;
        pos = eol + 2;
    }
    const size_t bodyStart = headEnd + 4;
    if (out.status == 204 || out.status == 304 || out.status / 100 == 1) {
        out.total = bodyStart;
        out.bodyBytes = 0;
        return 1;
    }
    if (chunked) {
        size_t at = bodyStart;
        size_t body = 0;
        for (;;) {
            const size_t eol = buf.find("\r\n", at);
            if (eol == std::string::npos)
                return 0;
            const size_t size = std::strtoul(buf.c_str() + at, nullptr, 16);
            at = eol + 2;
            if (size == 0) {
                // No trailers from either server: the terminating blank line follows.
                if (buf.size() < at + 2)
                    return 0;
                out.total = at + 2;
                out.bodyBytes = body;
                return 1;
            }
            if (buf.size() < at + size + 2)
                return 0;
            at += size + 2;
            body += size;
        }
    }
    if (contentLength < 0)
        return -1; // a keep-alive response must say where it ends
    if (buf.size() < bodyStart + static_cast<size_t>(contentLength))
        return 0;
    out.total = bodyStart + static_cast<size_t>(contentLength);
    out.bodyBytes = static_cast<size_t>(contentLength);
    return 1;
}

// Reads one whole response from a blocking socket; the bytes after it stay in buf.
bool readResponse(int fd, std::string &buf, Response &out)
{
    char chunk[65536];
    for (;;) {
        const int state = parseResponse(buf, out);
        if (state == 1) {
            buf.erase(0, out.total);
            return true;
        }
        if (state < 0)
            return false;
        const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return false;
        }
        buf.append(chunk, static_cast<size_t>(n));
    }
}

// Nearest-rank percentile of a sorted vector.
double percentile(const std::vector<double> &sorted, double p)
{
    if (sorted.empty())
        return -1;
    size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

std::string statsJson(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    double sum = 0;
    for (double v : values)
        sum += v;
    char text[256];
    std::snprintf(
        text, sizeof text, "{\"count\":%zu,\"mean\":%.3f,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
        values.size(), values.empty() ? -1.0 : sum / static_cast<double>(values.size()),
        percentile(values, 50), percentile(values, 99), values.empty() ? -1.0 : values.back());
    return text;
}

// Command line: --name value pairs after the mode.
struct Options : CommandLine
{
    int port() const
    {
        const long long p = number("port", 0);
        if (p <= 0 || p > 65535)
            die("--port is required");
        return static_cast<int>(p);
    }
    // A comma-separated list of ports; the fallback alone when the option is absent.
    std::vector<int> ports(const std::string &name, int fallback) const
    {
        const auto it = values.find(name);
        if (it == values.end())
            return {fallback};
        std::vector<int> result;
        const char *p = it->second.c_str();
        for (;;) {
            char *end = nullptr;
            const long n = std::strtol(p, &end, 10);
            if (end == p || n <= 0 || n > 65535 || (*end != ',' && *end != '\0'))
                die("--" + name + " wants ports separated by commas");
            result.push_back(static_cast<int>(n));
            if (*end == '\0')
                return result;
            p = end + 1;
        }
    }
};

// ---------------------------------------------------------------------------------------
// SSE subscribers

// Events published by this tool carry "ssebench:<seq>" in their content, so that a data line
// is matched to its publish without parsing JSON and other events (expiry) are ignored.
constexpr char kMarker[] = "ssebench:";

class SubscriberPool
{
public:
    enum class State : uint8_t
    {
        Idle,
        Connecting,
        AwaitingHead,
        AwaitingOk,
        Streaming,
        Closed
    };

    struct Subscriber
    {
        int fd = -1;
        State state = State::Idle;
        uint8_t attempts = 0;
        std::string pending; // a partial header block or a partial line
    };

    // Called for every data line (text frame) of a connected subscriber that carries our marker.
    std::function<void(size_t subscriber, long seq, int64_t at)> onEvent;
    bool kernelTimestamps = true;
    bool webSocket = false;     // subscriber i is peer i on GET /ws, not a reader of /events
    std::string requestHeaders; // sent with GET /events ("Name: value\r\n" lines)

    // Subscriber i connects to ports[i % ports.size()].
    SubscriberPool(std::vector<int> ports, size_t count) : m_ports(std::move(ports)), m_subs(count)
    {
        m_epoll = epoll_create1(EPOLL_CLOEXEC);
        if (m_epoll < 0)
            die("epoll_create1 failed");
    }

    ~SubscriberPool()
    {
        for (auto &s : m_subs)
            if (s.fd >= 0)
                closeAbortive(s.fd);
        close(m_epoll);
    }

    int epollFd() const { return m_epoll; }

    // Connects every subscriber and waits for its ": ok", with at most `inFlight` handshakes
    // at a time so that the server's accept backlog never overflows (an overflow costs a
    // 1 s SYN retransmit, which would measure the kernel, not the server).
    void connectAll(size_t inFlight, int64_t timeoutNs)
    {
        const int64_t deadline = nowNs() + timeoutNs;
        const int64_t start = nowNs();
        size_t next = 0;
        while ((next < m_subs.size() || m_connecting > 0 || !m_retry.empty()) &&
               nowNs() < deadline) {
            while (next < m_subs.size() && m_connecting < inFlight)
                begin(next++);
            while (!m_retry.empty() && m_connecting < inFlight) {
                const size_t i = m_retry.back();
                m_retry.pop_back();
                begin(i);
            }
            pump(50);
        }
        m_connectSeconds = static_cast<double>(nowNs() - start) / 1e9;
    }

    // Waits up to timeoutMs for socket activity and handles it; returns the events seen, or
    // -1 when a fd other than the subscribers' (extraFd) is readable.
    int pump(int timeoutMs, uint64_t extraTag = UINT64_MAX, bool *extraReady = nullptr)
    {
        epoll_event events[1024];
        const int n = epoll_wait(m_epoll, events, 1024, timeoutMs);
        if (n < 0)
            return 0;
        const int64_t at = realtimeNs();
        for (int k = 0; k < n; ++k) {
            const uint64_t tag = events[k].data.u64;
            if (tag == extraTag) {
                if (extraReady)
                    *extraReady = true;
                continue;
            }
            handle(static_cast<size_t>(tag), events[k].events, at);
        }
        return n;
    }

    size_t connected() const { return m_connected; }
    size_t connectFailures() const { return m_failures; }
    size_t disconnects() const { return m_disconnects; }
    size_t dataLines() const { return m_dataLines; }
    size_t kernelStamped() const { return m_kernelStamped; }
    size_t clientStamped() const { return m_clientStamped; }
    double connectSeconds() const { return m_connectSeconds; }
    const std::map<int, size_t> &badStatuses() const { return m_badStatus; }
    bool sawChunked() const { return m_chunked; }

private:
    void begin(size_t i)
    {
        Subscriber &s = m_subs[i];
        s.fd = openSocket();
        if (kernelTimestamps) {
            const int one = 1;
            setsockopt(s.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
        }
        s.pending.clear();
        ++s.attempts;
        bindSource(s.fd, i);
        if (!startConnect(s.fd, m_ports[i % m_ports.size()])) {
            fail(i);
            return;
        }
        s.state = State::Connecting;
        ++m_connecting;
        epoll_event ev{};
        ev.events = EPOLLOUT | EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, s.fd, &ev);
    }

    // A subscriber that could not connect is retried a few times (real clients reconnect
    // too); each failure is counted and shows in the report.
    void fail(size_t i)
    {
        Subscriber &s = m_subs[i];
        ++m_failures;
        if (s.state == State::Connecting || s.state == State::AwaitingHead ||
            s.state == State::AwaitingOk)
            --m_connecting;
        if (s.fd >= 0) {
            epoll_ctl(m_epoll, EPOLL_CTL_DEL, s.fd, nullptr);
            closeAbortive(s.fd);
            s.fd = -1;
        }
        s.state = State::Closed;
        if (s.attempts < 5)
            m_retry.push_back(i);
    }

    void handle(size_t i, uint32_t events, int64_t at)
    {
        Subscriber &s = m_subs[i];
        if (s.state == State::Connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            const std::string request =
                webSocket ? upgradeRequest(peerId(i)) : getRequest("/events", requestHeaders);
            if (err != 0 || !(events & EPOLLOUT) || !sendAll(s.fd, request)) {
                fail(i);
                return;
            }
            s.state = State::AwaitingHead;
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = i;
            epoll_ctl(m_epoll, EPOLL_CTL_MOD, s.fd, &ev);
            return;
        }
        if (s.state == State::Idle || s.state == State::Closed)
            return;
        bool stamped = false;
        const ssize_t n = receiveStamped(s.fd, m_buffer, sizeof m_buffer, at, stamped);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n > 0)
            ++(stamped ? m_kernelStamped : m_clientStamped);
        if (n <= 0) {
            if (s.state == State::Streaming) {
                // A stream that ends loses every later event: counted, never reconnected.
                ++m_disconnects;
                --m_connected;
                epoll_ctl(m_epoll, EPOLL_CTL_DEL, s.fd, nullptr);
                closeAbortive(s.fd);
                s.fd = -1;
                s.state = State::Closed;
            } else {
                fail(i);
            }
            return;
        }
        consume(i, m_buffer, static_cast<size_t>(n), at);
    }

    void consume(size_t i, const char *data, size_t size, int64_t at)
    {
        Subscriber &s = m_subs[i];
        if (s.state == State::AwaitingHead) {
            s.pending.append(data, size);
            const size_t headEnd = s.pending.find("\r\n\r\n");
            if (headEnd == std::string::npos)
                return;
            const int status = s.pending.size() > 12 ? std::atoi(s.pending.c_str() + 9) : 0;
            if (status != (webSocket ? 101 : 200)) {
                ++m_badStatus[status];
                fail(i);
                return;
            }
            const std::string head = s.pending.substr(0, headEnd);
            if (head.find("hunked") != std::string::npos)
                m_chunked = true;
            std::string body = s.pending.substr(headEnd + 4);
            s.pending.clear();
            if (webSocket) {
                s.state = State::Streaming;
                ++m_connected;
                --m_connecting;
                frames(i, body.data(), body.size(), at);
            } else {
                s.state = State::AwaitingOk;
                lines(i, body.data(), body.size(), at);
            }
            return;
        }
        if (webSocket) {
            frames(i, data, size, at);
            return;
        }
        if (s.pending.empty()) {
            lines(i, data, size, at);
        } else {
            s.pending.append(data, size);
            std::string joined;
            joined.swap(s.pending);
            lines(i, joined.data(), joined.size(), at);
        }
    }

    // Handles the complete lines in data; a trailing partial line is kept for the next read.
    // Go's reference streams with chunked framing (one chunk per flushed event): its chunk-size
    // lines are simply lines that are neither ": ok" nor "data:".
    void lines(size_t i, const char *data, size_t size, int64_t at)
    {
        Subscriber &s = m_subs[i];
        const char *p = data;
        const char *end = data + size;
        while (p < end) {
            const char *eol = static_cast<const char *>(std::memchr(p, '\n', end - p));
            if (!eol) {
                s.pending.assign(p, end - p);
                return;
            }
            const size_t len = eol - p;
            if (len >= 4 && std::memcmp(p, ": ok", 4) == 0 && s.state == State::AwaitingOk) {
                s.state = State::Streaming;
                ++m_connected;
                --m_connecting;
            } else if (len > 5 && std::memcmp(p, "data:", 5) == 0) {
                ++m_dataLines;
                const char *mark =
                    static_cast<const char *>(memmem(p, len, kMarker, sizeof kMarker - 1));
                if (mark && onEvent)
                    onEvent(i, std::strtol(mark + sizeof kMarker - 1, nullptr, 10), at);
            }
            p = eol + 1;
        }
    }

    // Handles the complete frames in pending + data (the server's: unmasked); a partial one is
    // kept. Text frames are events; a ping is answered, as clients do, or the server would
    // close the connection after 15 s.
    void frames(size_t i, const char *data, size_t size, int64_t at)
    {
        Subscriber &s = m_subs[i];
        s.pending.append(data, size);
        size_t pos = 0;
        while (s.pending.size() - pos >= 2) {
            const auto *b = reinterpret_cast<const unsigned char *>(s.pending.data() + pos);
            size_t header = 2;
            uint64_t length = b[1] & 0x7F;
            if (length == 126) {
                header = 4;
                if (s.pending.size() - pos < header)
                    break;
                length = (uint64_t(b[2]) << 8) | b[3];
            } else if (length == 127) {
                header = 10;
                if (s.pending.size() - pos < header)
                    break;
                length = 0;
                for (int k = 2; k < 10; ++k)
                    length = (length << 8) | b[k];
            }
            if (s.pending.size() - pos < header + length)
                break;
            const char *payload = s.pending.data() + pos + header;
            const int opcode = b[0] & 0x0F;
            if (opcode == 0x1) {
                ++m_dataLines;
                const char *mark = static_cast<const char *>(
                    memmem(payload, static_cast<size_t>(length), kMarker, sizeof kMarker - 1));
                if (mark && onEvent)
                    onEvent(i, std::strtol(mark + sizeof kMarker - 1, nullptr, 10), at);
            } else if (opcode == 0x9) {
                static const char pong[] = {char(0x8A), char(0x80), 0, 0, 0, 0};
                sendAll(s.fd, std::string(pong, sizeof pong));
            }
            pos += header + static_cast<size_t>(length);
        }
        s.pending.erase(0, pos);
    }

    std::vector<int> m_ports;
    int m_epoll = -1;
    std::vector<Subscriber> m_subs;
    std::vector<size_t> m_retry;
    size_t m_connecting = 0;
    size_t m_connected = 0;
    size_t m_failures = 0;
    size_t m_disconnects = 0;
    size_t m_dataLines = 0;
    size_t m_kernelStamped = 0; // reads timed by the kernel's receive timestamp
    size_t m_clientStamped = 0; // reads without one, timed when epoll_wait returned
    double m_connectSeconds = 0;
    std::map<int, size_t> m_badStatus;
    bool m_chunked = false;
    char m_buffer[65536];
};

std::string poolJson(const SubscriberPool &pool, size_t requested)
{
    std::string statuses = "{";
    for (const auto &[status, count] : pool.badStatuses()) {
        if (statuses.size() > 1)
            statuses += ",";
        statuses += "\"" + std::to_string(status) + "\":" + std::to_string(count);
    }
    statuses += "}";
    char text[512];
    std::snprintf(text, sizeof text,
                  "\"subscribers_requested\":%zu,\"subscribers_connected\":%zu,"
                  "\"connect_seconds\":%.3f,\"connect_failures\":%zu,\"bad_statuses\":%s,"
                  "\"chunked_stream\":%s,\"stream_disconnects\":%zu",
                  requested, pool.connected(), pool.connectSeconds(), pool.connectFailures(),
                  statuses.c_str(), pool.sawChunked() ? "true" : "false", pool.disconnects());
    return text;
}

int runFanout(const Options &options)
{
    const int port = options.port();
    const std::vector<int> subscribePorts = options.ports("subscribe-ports", port);
    const size_t subscribers = static_cast<size_t>(options.number("subscribers", 100));
    const long publishes = static_cast<long>(options.number("publishes", 10));
    const int64_t intervalNs = options.number("interval-ms", 100) * 1000000LL;
    const int64_t drainNs = options.number("drain-ms", 5000) * 1000000LL;
    raiseFileLimit();

    SubscriberPool pool(subscribePorts, subscribers);
    pool.kernelTimestamps = options.text("timestamps", "kernel") == "kernel";
    pool.webSocket = options.text("transport", "sse") == "ws";
    std::vector<int64_t> sentAt(static_cast<size_t>(publishes), 0);
    // One slot per (subscriber, event): -1 until delivered. 15,000 x 20 fits easily.
    std::vector<int64_t> latency(subscribers * static_cast<size_t>(publishes), -1);
    size_t received = 0;
    size_t duplicates = 0;
    size_t strays = 0;
    pool.onEvent = [&](size_t sub, long seq, int64_t at) {
        if (seq < 0 || seq >= publishes || sentAt[static_cast<size_t>(seq)] == 0) {
            ++strays;
            return;
        }
        int64_t &slot = latency[sub * static_cast<size_t>(publishes) + static_cast<size_t>(seq)];
        if (slot >= 0) {
            ++duplicates;
            return;
        }
        // Clamped: a clock step must not turn a delivery back into "not delivered".
        slot = std::max<int64_t>(0, at - sentAt[static_cast<size_t>(seq)]);
        ++received;
    };
    pool.connectAll(static_cast<size_t>(options.number("batch", 32)),
                    options.number("connect-timeout-s", 90) * 1000000000LL);

    // Let the server finish whatever follows the last accept before the first publish.
    const int64_t settleUntil = nowNs() + options.number("settle-ms", 500) * 1000000LL;
    while (nowNs() < settleUntil)
        pool.pump(10);

    const int publisher = connectBlocking(port);
    fcntl(publisher, F_SETFL, fcntl(publisher, F_GETFL) | O_NONBLOCK);
    constexpr uint64_t kPublisherTag = UINT64_MAX - 1;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kPublisherTag;
    epoll_ctl(pool.epollFd(), EPOLL_CTL_ADD, publisher, &ev);

    // The publisher lives in the same epoll loop as the subscribers, so waiting for a 204
    // never delays reading (and timestamping) the streams.
    std::string replyBuffer;
    const double cpuAtFirstPublish = cpuSeconds();
    const int64_t firstPublishAt = nowNs();
    bool awaitingReply = false;
    long nextSeq = 0;
    size_t publishErrors = 0;
    int64_t nextSendAt = nowNs();
    int64_t lastActivity = nowNs();
    const size_t expected = subscribers * static_cast<size_t>(publishes);
    for (;;) {
        const int64_t now = nowNs();
        if (!awaitingReply && nextSeq < publishes && now >= nextSendAt) {
            const std::string request =
                publishRequest("update", peerId(1000000 + static_cast<uint64_t>(nextSeq)),
                               std::string(kMarker) + std::to_string(nextSeq));
            sentAt[static_cast<size_t>(nextSeq)] = realtimeNs();
            if (!sendAll(publisher, request))
                die("publish connection failed");
            nextSendAt = nowNs() + intervalNs;
            ++nextSeq;
            awaitingReply = true;
            lastActivity = nowNs();
        }
        const bool allSent = nextSeq == publishes && !awaitingReply;
        if (allSent && (received == expected || now - lastActivity > drainNs))
            break;
        int timeoutMs = 50;
        if (!awaitingReply && nextSeq < publishes)
            timeoutMs = static_cast<int>(std::max<int64_t>(0, (nextSendAt - now) / 1000000));
        bool replyReady = false;
        const size_t before = received;
        pool.pump(timeoutMs, kPublisherTag, &replyReady);
        if (received != before)
            lastActivity = nowNs();
        if (replyReady) {
            char chunk[4096];
            const ssize_t n = recv(publisher, chunk, sizeof chunk, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                die("the server closed the publish connection");
            if (n > 0)
                replyBuffer.append(chunk, static_cast<size_t>(n));
            Response response;
            int state;
            while ((state = parseResponse(replyBuffer, response)) == 1) {
                if (response.status != 204)
                    ++publishErrors;
                replyBuffer.erase(0, response.total);
                awaitingReply = false;
            }
            if (state < 0)
                die("unreadable reply to a publish");
        }
    }
    close(publisher);
    // The client's own share of the machine while events flowed: on two shared cores, a
    // client that needs much CPU per event would delay the server it measures.
    const double clientCpu = cpuSeconds() - cpuAtFirstPublish;
    const double publishPhase = static_cast<double>(nowNs() - firstPublishAt) / 1e9;

    std::vector<double> all;
    all.reserve(received);
    std::vector<double> perPublish;
    size_t incomplete = 0;
    std::string perPublishList = "[";
    for (long seq = 0; seq < publishes; ++seq) {
        int64_t worst = -1;
        bool complete = true;
        for (size_t sub = 0; sub < subscribers; ++sub) {
            const int64_t v = latency[sub * static_cast<size_t>(publishes) + seq];
            if (v < 0) {
                complete = false;
                continue;
            }
            all.push_back(static_cast<double>(v) / 1e6);
            worst = std::max(worst, v);
        }
        if (!complete)
            ++incomplete;
        // A publish some subscriber never got has no "everyone has it" time; it counts as
        // lost events instead, and its partial maximum is still listed.
        if (complete && worst >= 0)
            perPublish.push_back(static_cast<double>(worst) / 1e6);
        char item[32];
        std::snprintf(item, sizeof item, "%s%.3f", seq ? "," : "",
                      worst < 0 ? -1.0 : static_cast<double>(worst) / 1e6);
        perPublishList += item;
    }
    perPublishList += "]";

    std::string portList = "[";
    for (int p : subscribePorts)
        portList += (portList.size() > 1 ? "," : "") + std::to_string(p);
    portList += "]";

    // Next to the pool's figures, so that the rest of the line keeps the shape scripts read.
    const std::string poolFigures =
        poolJson(pool, subscribers) + ",\"subscribe_ports\":" + portList;

    std::printf("{\"mode\":\"fanout\",%s,\"publishes\":%ld,\"interval_ms\":%lld,"
                "\"publish_errors\":%zu,\"expected\":%zu,\"received\":%zu,\"lost\":%zu,"
                "\"duplicates\":%zu,\"strays\":%zu,\"publishes_incomplete\":%zu,"
                "\"client_cpu_s\":%.3f,\"publish_phase_s\":%.3f,\"kernel_stamped_reads\":%zu,"
                "\"client_stamped_reads\":%zu,"
                "\"all_have_it_ms\":%s,\"delivery_ms\":%s,\"per_publish_max_ms\":%s}\n",
                poolFigures.c_str(), publishes, static_cast<long long>(intervalNs / 1000000),
                publishErrors, expected, received, expected - received, duplicates, strays,
                incomplete, clientCpu, publishPhase, pool.kernelStamped(), pool.clientStamped(),
                statsJson(perPublish).c_str(), statsJson(all).c_str(), perPublishList.c_str());
    return 0;
}

// SIGTERM and SIGINT, blocked and delivered through the returned descriptor instead, so that a
// waiting loop ends cleanly.
int stopSignals()
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    return signalfd(-1, &mask, SFD_CLOEXEC);
}

// Creates --ready-file, if given: after the "ready" line is on stdout, so that a reader polling
// for the file sees the figures too.
void announceReady(const Options &options)
{
    std::fflush(stdout);
    const std::string readyFile = options.text("ready-file", "");
    if (!readyFile.empty()) {
        if (FILE *f = std::fopen(readyFile.c_str(), "w"))
            std::fclose(f);
    }
}

int runHold(const Options &options)
{
    const int port = options.port();
    const size_t subscribers = static_cast<size_t>(options.number("subscribers", 100));
    raiseFileLimit();
    const int signals = stopSignals();

    SubscriberPool pool({port}, subscribers);
    pool.webSocket = options.text("transport", "sse") == "ws";
    pool.connectAll(static_cast<size_t>(options.number("batch", 32)),
                    options.number("connect-timeout-s", 90) * 1000000000LL);
    std::printf("{\"mode\":\"hold\",\"state\":\"ready\",%s}\n",
                poolJson(pool, subscribers).c_str());
    announceReady(options);

    constexpr uint64_t kSignalTag = UINT64_MAX - 2;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kSignalTag;
    epoll_ctl(pool.epollFd(), EPOLL_CTL_ADD, signals, &ev);
    const int64_t holdNs = options.number("hold-s", 600) * 1000000000LL;
    const int64_t until = nowNs() + holdNs;
    bool stop = false;
    while (!stop && nowNs() < until)
        pool.pump(200, kSignalTag, &stop);
    std::printf("{\"mode\":\"hold\",\"state\":\"done\",%s,\"data_lines\":%zu}\n",
                poolJson(pool, subscribers).c_str(), pool.dataLines());
    return 0;
}

int runIdle(const Options &options)
{
    const int port = options.port();
    const size_t connections = static_cast<size_t>(options.number("connections", 1000));
    raiseFileLimit();
    const int signals = stopSignals();

    std::vector<int> fds;
    fds.reserve(connections);
    std::string buf;
    for (size_t k = 0; k < connections; ++k) {
        const int fd = connectBlocking(port, k);
        Response response;
        buf.clear();
        if (!sendAll(fd, getRequest("/healthz")) || !readResponse(fd, buf, response) ||
            response.status != 200)
            die("connection " + std::to_string(k) + ": no 200 for /healthz");
        fds.push_back(fd);
    }
    std::printf("{\"mode\":\"idle\",\"state\":\"ready\",\"connections\":%zu}\n", fds.size());
    announceReady(options);
    pollfd wait{signals, POLLIN, 0};
    poll(&wait, 1, static_cast<int>(options.number("hold-s", 600) * 1000));
    // Still open: a peek finds nothing waiting rather than the end of the stream.
    size_t open = 0;
    for (const int fd : fds) {
        char byte;
        const ssize_t got = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            ++open;
        close(fd);
    }
    std::printf("{\"mode\":\"idle\",\"state\":\"done\",\"connections\":%zu,\"still_open\":%zu}\n",
                fds.size(), open);
    return 0;
}

int runLatency(const Options &options)
{
    const int port = options.port();
    const long requests = static_cast<long>(options.number("requests", 1000));
    const long warmup = static_cast<long>(options.number("warmup", 100));
    // With --seconds, measured requests stop after that long even before --requests.
    const int64_t seconds = options.number("seconds", 0);
    int64_t stopAt = INT64_MAX;
    const std::string path = options.text("path", "/healthz");
    const bool publish = path == "publish" || path == "/publish";

    const int fd = connectBlocking(port);
    std::string buf;
    std::vector<double> micros;
    micros.reserve(static_cast<size_t>(requests));
    size_t errors = 0;
    size_t lastBody = 0;
    for (long i = -warmup; i < requests && nowNs() < stopAt; ++i) {
        if (i == 0 && seconds > 0)
            stopAt = nowNs() + seconds * 1000000000LL;
        // Publishes cycle over 1,000 peers, like the throughput figure: a steady registry.
        const uint64_t peer = static_cast<uint64_t>(i + warmup) % 1000;
        const std::string request =
            publish ? publishRequest("update", peerId(peer), "node-" + std::to_string(peer))
                    : getRequest(path);
        const int64_t start = nowNs();
        Response response;
        if (!sendAll(fd, request) || !readResponse(fd, buf, response))
            die("the server closed the connection or sent something unreadable");
        const int64_t elapsed = nowNs() - start;
        if (response.status / 100 != 2)
            ++errors;
        lastBody = response.bodyBytes;
        if (i >= 0)
            micros.push_back(static_cast<double>(elapsed) / 1e3);
    }
    close(fd);
    std::printf("{\"mode\":\"latency\",\"path\":\"%s\",\"requests\":%zu,\"errors\":%zu,"
                "\"body_bytes\":%zu,\"us\":%s}\n",
                path.c_str(), micros.size(), errors, lastBody, statsJson(micros).c_str());
    return 0;
}

int runRegister(const Options &options)
{
    const int port = options.port();
    const uint64_t peers = static_cast<uint64_t>(options.number("peers", 1000));
    const uint64_t offset = static_cast<uint64_t>(options.number("offset", 0));
    const size_t connections = static_cast<size_t>(std::max(1LL, options.number("connections", 4)));

    // Each connection keeps exactly one publish in flight: no pipelining, which some HTTP
    // servers answer out of order.
    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    std::vector<int> fds(connections);
    std::vector<std::string> buffers(connections);
    // Connection c registers peers c, c + C, c + 2C…: an even share per source address.
    std::vector<uint64_t> next(connections);
    for (size_t c = 0; c < connections; ++c)
        next[c] = c;
    uint64_t done = 0;
    size_t errors = 0;
    const auto sendNext = [&](size_t c) {
        if (next[c] >= peers)
            return;
        const uint64_t index = offset + next[c];
        next[c] += connections;
        if (!sendAll(fds[c],
                     publishRequest("online", peerId(index), "node-" + std::to_string(index))))
            die("publish connection failed");
    };
    const int64_t start = nowNs();
    for (size_t c = 0; c < connections; ++c) {
        fds[c] = connectBlocking(port, c);
        fcntl(fds[c], F_SETFL, fcntl(fds[c], F_GETFL) | O_NONBLOCK);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = c;
        epoll_ctl(epoll, EPOLL_CTL_ADD, fds[c], &ev);
        sendNext(c);
    }
    char chunk[65536];
    while (done < peers) {
        epoll_event events[64];
        const int n = epoll_wait(epoll, events, 64, 10000);
        if (n == 0)
            die("no reply for 10 s while registering peers");
        for (int k = 0; k < n; ++k) {
            const size_t c = static_cast<size_t>(events[k].data.u64);
            const ssize_t got = recv(fds[c], chunk, sizeof chunk, 0);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
                die("the server closed a publish connection");
            if (got < 0)
                continue;
            buffers[c].append(chunk, static_cast<size_t>(got));
            Response response;
            int state;
            while ((state = parseResponse(buffers[c], response)) == 1) {
                buffers[c].erase(0, response.total);
                if (response.status != 204)
                    ++errors;
                ++done;
                sendNext(c);
            }
            if (state < 0)
                die("unreadable reply to a publish");
        }
    }
    const double seconds = static_cast<double>(nowNs() - start) / 1e9;
    for (int fd : fds)
        close(fd);
    close(epoll);
    std::printf("{\"mode\":\"register\",\"peers\":%llu,\"errors\":%zu,\"seconds\":%.3f,"
                "\"per_second\":%.0f}\n",
                static_cast<unsigned long long>(peers), errors, seconds,
                static_cast<double>(peers) / seconds);
    return 0;
}

// Publishes one event with our marker and `seq` on `fd` (keep-alive) and waits for its 204.
void publishMarked(int fd, long seq)
{
    if (!sendAll(fd, publishRequest("update", peerId(static_cast<uint64_t>(seq) % 100),
                                    kMarker + std::to_string(seq))))
        die("publish connection failed");
    std::string buffer;
    Response response;
    if (!readResponse(fd, buffer, response) || response.status != 204)
        die("a publish was not answered 204");
}

// N subscribers that missed K events reconnect at once with Last-Event-ID: how long until every
// one has had all K replayed (and so is live again).
int runResume(const Options &options)
{
    const int port = options.port();
    const size_t subscribers = static_cast<size_t>(options.number("subscribers", 1000));
    const long missed = static_cast<long>(options.number("missed", 10000));

    // The ID to resume after: that of a first marked event, read on a stream of our own.
    const int stream = connectBlocking(port);
    sendAll(stream, getRequest("/events"));
    const int publisher = connectBlocking(port);
    publishMarked(publisher, 0);
    std::string seen;
    char chunk[65536];
    const std::string first = std::string(kMarker) + "0\"";
    while (seen.find(first) == std::string::npos) {
        const ssize_t n = recv(stream, chunk, sizeof chunk, 0);
        if (n <= 0)
            die("the first event never came");
        seen.append(chunk, static_cast<size_t>(n));
    }
    const size_t idAt = seen.rfind("id: ", seen.find(first));
    if (idAt == std::string::npos)
        die("the server's events carry no id: line");
    const std::string lastEventId = seen.substr(idAt + 4, seen.find('\n', idAt) - idAt - 4);
    close(stream);
    for (long seq = 1; seq <= missed; ++seq)
        publishMarked(publisher, seq);
    close(publisher);

    SubscriberPool pool({port}, subscribers);
    pool.kernelTimestamps = false;
    pool.requestHeaders = "Last-Event-ID: " + lastEventId + "\r\n";
    std::vector<long> got(subscribers, 0);
    std::vector<double> doneSeconds;
    const int64_t start = nowNs();
    pool.onEvent = [&](size_t i, long, int64_t) {
        if (++got[i] == missed)
            doneSeconds.push_back(static_cast<double>(nowNs() - start) / 1e9);
    };
    pool.connectAll(512, 60LL * 1000000000LL);
    const int64_t deadline = nowNs() + 120LL * 1000000000LL;
    while (doneSeconds.size() < pool.connected() && nowNs() < deadline)
        pool.pump(50);
    const double all = static_cast<double>(nowNs() - start) / 1e9;
    std::sort(doneSeconds.begin(), doneSeconds.end());
    std::printf("{\"mode\":\"resume\",\"missed\":%ld,%s,\"caught_up\":%zu,"
                "\"all_live_seconds\":%.3f,\"caught_up_p50_seconds\":%.3f,"
                "\"events_replayed_per_second\":%.0f}\n",
                missed, poolJson(pool, subscribers).c_str(), doneSeconds.size(), all,
                percentile(doneSeconds, 50),
                static_cast<double>(doneSeconds.size()) * static_cast<double>(missed) / all);
    return doneSeconds.size() == subscribers ? 0 : 1;
}

void usage()
{
    std::fputs(
        "usage: goop-ssebench MODE --port P [options]   (talks to 127.0.0.1 only)\n"
        "  fanout   --subscribers N --publishes K --interval-ms M [--batch B] [--drain-ms D]\n"
        "           [--timestamps kernel|read]   (default kernel: SO_TIMESTAMPNS receive time)\n"
        "           [--subscribe-ports P1,P2,...]   (round-robin; publishes still go to --port)\n"
        "  hold     --subscribers N [--ready-file F] [--hold-s S]   (ends on SIGTERM/SIGINT)\n"
        "  idle     --connections N [--ready-file F] [--hold-s S]   (ends on SIGTERM/SIGINT)\n"
        "  latency  --requests N --path /healthz|/peers.json|publish [--warmup W] [--seconds S]\n"
        "  register --peers N [--connections C] [--offset O]\n"
        "  resume   --subscribers N --missed K   (N reconnect at once with Last-Event-ID)\n",
        stderr);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    const std::string mode = argv[1];
    Options options;
    for (int i = 2; i < argc; ++i) {
        std::string name = argv[i];
        if (name.rfind("--", 0) != 0 || i + 1 >= argc) {
            usage();
            return 2;
        }
        options.values[name.substr(2)] = argv[++i];
    }
    // A subscriber the server drops must show up as a count, not kill the tool.
    std::signal(SIGPIPE, SIG_IGN);
    g_sources = static_cast<size_t>(std::max(1LL, options.number("sources", 1)));
    if (mode == "fanout")
        return runFanout(options);
    if (mode == "hold")
        return runHold(options);
    if (mode == "idle")
        return runIdle(options);
    if (mode == "latency")
        return runLatency(options);
    if (mode == "register")
        return runRegister(options);
    if (mode == "resume")
        return runResume(options);
    usage();
    return 2;
}
