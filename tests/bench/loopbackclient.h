#pragma once

// What the load generators (goop-ssebench, goop-meshbench) share: clocks, the open-file limit,
// non-blocking loopback sockets from addresses of their own, the peer IDs (so that every tool
// and every run see the same peers) and their "--name value" options. Linux only, like the
// tools.

#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

namespace loopback {

constexpr int64_t kMillisecond = 1000000;
constexpr int64_t kSecond = 1000000000;

// Scheduling runs on the monotonic clock; latencies on CLOCK_REALTIME, the clock of the
// kernel's receive timestamps (SO_TIMESTAMPNS).
inline int64_t nowNs()
{
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<int64_t>(t.tv_sec) * kSecond + t.tv_nsec;
}

inline int64_t realtimeNs()
{
    timespec t{};
    clock_gettime(CLOCK_REALTIME, &t);
    return static_cast<int64_t>(t.tv_sec) * kSecond + t.tv_nsec;
}

// This process's user + system CPU time: how much of the machine the client itself took.
inline double cpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval &t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

[[noreturn]] inline void die(const std::string &message)
{
    std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, message.c_str());
    std::exit(2);
}

// Thousands of connections need more than the default soft limit of 1,024: the hard limit
// (20,000 here). Returns the limit now in force.
inline size_t raiseFileLimit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 1024;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    return static_cast<size_t>(limit.rlim_cur);
}

// A libp2p-looking peer ID ("12D3KooW" + 44 base58 characters, 52 in all), derived from an
// index so that every tool, every run and every server see the same IDs.
inline std::string peerId(uint64_t index)
{
    static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    std::string id = "12D3KooW";
    uint64_t state = index * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
    while (id.size() < 52) {
        // splitmix64: cheap, well mixed, deterministic.
        uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        for (int i = 0; i < 8 && id.size() < 52; ++i) {
            id += alphabet[z % 58];
            z /= 58;
        }
    }
    return id;
}

// Binds `fd` to the n-th loopback source address (127.1.x.y), so that a server counting per
// client address sees a host per n.
inline void bindSourceAddress(int fd, uint32_t n)
{
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | ((n / 250) << 8) | (n % 250 + 1));
    if (bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0)
        die(std::string("bind to a loopback source: ") + std::strerror(errno));
}

inline int openSocket()
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die(std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// Starts a non-blocking connect to 127.0.0.1:port; false when it failed at once.
inline bool startConnect(int fd, int port)
{
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0 ||
           errno == EINPROGRESS;
}

// Closing with RST instead of FIN keeps thousands of client sockets out of TIME_WAIT, so that
// back-to-back runs do not run out of loopback ports.
inline void closeAbortive(int fd)
{
    const linger abortive{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    close(fd);
}

// Whether a header line (without its line end) is the header `name` (lower case).
inline bool headerIs(const char *line, size_t lineLength, const char *name)
{
    const size_t n = std::strlen(name);
    return lineLength > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

// recv() with the kernel's receive timestamp (SO_TIMESTAMPNS on the socket): the delivery time
// is then when the server's bytes arrived, not when this busy client got round to reading them.
// `at` becomes that time (CLOCK_REALTIME) when the kernel gave one, and `stamped` says so.
inline ssize_t receiveStamped(int fd, char *buffer, size_t size, int64_t &at, bool &stamped)
{
    iovec data{buffer, size};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(fd, &message, 0);
    stamped = false;
    for (cmsghdr *c = CMSG_FIRSTHDR(&message); n > 0 && c; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec t{};
            std::memcpy(&t, CMSG_DATA(c), sizeof t);
            at = static_cast<int64_t>(t.tv_sec) * kSecond + t.tv_nsec;
            stamped = true;
        }
    }
    return n;
}

// "--name value" pairs from the command line.
struct CommandLine
{
    std::map<std::string, std::string> values;

    long long number(const std::string &name, long long fallback) const
    {
        const auto it = values.find(name);
        if (it == values.end())
            return fallback;
        char *end = nullptr;
        const long long n = std::strtoll(it->second.c_str(), &end, 10);
        if (end == it->second.c_str() || *end != '\0' || n < 0)
            die("--" + name + " wants a non-negative number");
        return n;
    }
    std::string text(const std::string &name, const std::string &fallback) const
    {
        const auto it = values.find(name);
        return it == values.end() ? fallback : it->second;
    }
};

} // namespace loopback
