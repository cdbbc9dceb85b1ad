#pragma once

// Event-stream subscribers that read a few KiB a second, far less than a busy network's events
// (1,000 peers heartbeating make ~30 KB/s per subscriber): the server must drop them by its
// slow-subscriber rule while everyone else notices nothing. Each comes back a second after it
// was dropped. No epoll: they are read on a timer, which is what makes them slow.

#include "loopbackclient.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

class SlowSubscribers
{
public:
    // `count` subscribers to 127.0.0.1:port, from the loopback sources firstSource and on.
    SlowSubscribers(int port, size_t count, uint32_t firstSource, size_t bytesPerTick = 4096)
        : m_port(port), m_firstSource(firstSource), m_bytesPerTick(bytesPerTick),
          m_subscribers(count)
    {}

    ~SlowSubscribers()
    {
        for (const Subscriber &s : m_subscribers)
            if (s.fd >= 0)
                loopback::closeAbortive(s.fd);
    }

    // Reads each one's share and brings back the dropped; meant to be called once a second.
    void tick(int64_t now)
    {
        for (size_t i = 0; i < m_subscribers.size(); ++i) {
            Subscriber &s = m_subscribers[i];
            if (s.fd < 0) {
                if (now >= s.retryAt)
                    open(s, static_cast<uint32_t>(m_firstSource + i));
                continue;
            }
            if (!s.requested) {
                static const std::string request =
                    "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
                const ssize_t n = send(s.fd, request.data(), request.size(), MSG_NOSIGNAL);
                if (n == static_cast<ssize_t>(request.size()))
                    s.requested = true;
                else if (n >= 0 || (errno != EAGAIN && errno != ENOTCONN))
                    lost(s, now); // refused, or a part sent: start over
                continue;
            }
            char buffer[4096];
            for (size_t read = 0; read < m_bytesPerTick;) {
                const ssize_t n =
                    recv(s.fd, buffer, std::min(sizeof buffer, m_bytesPerTick - read), 0);
                if (n > 0) {
                    read += static_cast<size_t>(n);
                    continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                    break;
                lost(s, now);
                ++m_drops;
                break;
            }
        }
    }

    uint64_t drops() const { return m_drops; }
    uint64_t opened() const { return m_opened; }

private:
    struct Subscriber
    {
        int fd = -1;
        bool requested = false;
        int64_t retryAt = 0;
    };

    void open(Subscriber &s, uint32_t source)
    {
        s.fd = loopback::openSocket();
        loopback::bindSourceAddress(s.fd, source);
        s.requested = false;
        ++m_opened;
        if (!loopback::startConnect(s.fd, m_port))
            lost(s, loopback::nowNs());
    }

    void lost(Subscriber &s, int64_t now)
    {
        loopback::closeAbortive(s.fd);
        s.fd = -1;
        s.retryAt = now + loopback::kSecond;
    }

    const int m_port;
    const uint32_t m_firstSource;
    const size_t m_bytesPerTick;
    std::vector<Subscriber> m_subscribers;
    uint64_t m_drops = 0;
    uint64_t m_opened = 0;
};
