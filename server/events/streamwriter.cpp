#include "streamwriter.h"

#include "connectionbudget.h"
#include "logcategories.h"
#include "sseframe.h"

#include <QHostAddress>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;

// Marks the wake-up descriptor among epoll events (streams carry their Stream pointer).
constexpr quint64 wakeupTag = 0;

QString peerName(int fd)
{
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return QStringLiteral("?");
    QHostAddress host(reinterpret_cast<sockaddr *>(&address));
    const quint16 port =
        ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&address)->sin6_port
                                            : reinterpret_cast<sockaddr_in *>(&address)->sin_port);
    return host.toString() + QLatin1Char(':') + QString::number(port);
}

} // namespace

StreamWriter::StreamWriter(qint64 maxBacklogBytes, std::chrono::milliseconds heartbeat,
                           ConnectionBudget &budget, std::atomic<qint64> &droppedCounter,
                           std::atomic<qint64> &deliveredCounter)
    : m_maxBacklogBytes(maxBacklogBytes), m_heartbeat(heartbeat), m_budget(budget),
      m_dropped(droppedCounter), m_delivered(deliveredCounter)
{
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    m_wakeup = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_epoll < 0 || m_wakeup < 0)
        qFatal("cannot create the event-stream writer: %s", strerror(errno));
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = wakeupTag;
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wakeup, &event);
    m_thread = std::thread([this] { run(); });
}

StreamWriter::~StreamWriter()
{
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        m_stop = true;
        m_closeAll = true;
    }
    wake();
    m_thread.join();
    ::close(m_epoll);
    ::close(m_wakeup);
}

void StreamWriter::add(int socketDescriptor, const QByteArray &greeting)
{
    // Counted from now, not from when the writer thread picks it up: EventHub skips writers
    // without streams, and this one must get every event broadcast after this call.
    m_count.fetch_add(1);
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        m_incoming.emplace_back(socketDescriptor, greeting);
    }
    wake();
}

void StreamWriter::post(const QByteArray &frames)
{
    bool first;
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        first = m_frames.isEmpty();
        m_frames.append(frames);
        ++m_frameCount;
    }
    if (first) // one wake-up per batch: frames posted meanwhile ride along
        wake();
}

void StreamWriter::closeAll()
{
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        m_closeAll = true;
    }
    wake();
}

void StreamWriter::wake()
{
    const quint64 one = 1;
    [[maybe_unused]] const auto written = ::write(m_wakeup, &one, sizeof one);
}

void StreamWriter::run()
{
    auto nextHeartbeat = Clock::now() + m_heartbeat;
    std::vector<epoll_event> events(512);
    for (;;) {
        const auto untilHeartbeat =
            std::chrono::duration_cast<std::chrono::milliseconds>(nextHeartbeat - Clock::now());
        const int ready =
            ::epoll_wait(m_epoll, events.data(), static_cast<int>(events.size()),
                         static_cast<int>(qMax<qint64>(0, untilHeartbeat.count() + 1)));
        for (int i = 0; i < ready; ++i) {
            const epoll_event &event = events[size_t(i)];
            if (event.data.u64 == wakeupTag) {
                quint64 counter;
                [[maybe_unused]] const auto read = ::read(m_wakeup, &counter, sizeof counter);
                continue;
            }
            auto *stream = static_cast<Stream *>(event.data.ptr);
            if (stream->fd < 0)
                continue; // closed earlier in this round
            if (event.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                discardInput(stream);
                if (stream->fd < 0)
                    continue;
            }
            if (event.events & EPOLLOUT)
                flush(stream);
        }
        takeInbox();
        if (Clock::now() >= nextHeartbeat) {
            deliver(SseFrame::ping);
            nextHeartbeat = Clock::now() + m_heartbeat;
        }
        // Streams closed in this round are freed only now: later events may still name them.
        m_streams.erase(std::remove_if(m_streams.begin(), m_streams.end(),
                                       [](Stream *stream) {
                                           if (stream->fd >= 0)
                                               return false;
                                           delete stream;
                                           return true;
                                       }),
                        m_streams.end());
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        if (m_stop && m_incoming.empty() && m_frames.isEmpty() && m_streams.empty())
            return;
    }
}

void StreamWriter::takeInbox()
{
    std::vector<std::pair<int, QByteArray>> incoming;
    QByteArray frames;
    qint64 frameCount = 0;
    bool closeAll;
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        incoming.swap(m_incoming);
        frames.swap(m_frames);
        frameCount = std::exchange(m_frameCount, 0);
        closeAll = std::exchange(m_closeAll, false);
    }
    // Frames posted before a stream was added are not its business: deliver them first.
    if (!frames.isEmpty()) {
        deliver(frames);
        m_delivered.fetch_add(frameCount * qint64(m_streams.size()), std::memory_order_relaxed);
    }
    for (auto &[fd, greeting] : incoming) {
        auto *stream = new Stream;
        stream->fd = fd;
        m_streams.push_back(stream);
        epoll_event event{};
        event.events = EPOLLIN | EPOLLRDHUP;
        event.data.ptr = stream;
        ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event);
        send(stream, greeting.constData(), greeting.size());
    }
    if (closeAll) {
        for (Stream *stream : m_streams) {
            if (stream->fd < 0)
                continue;
            flush(stream);
            if (stream->fd >= 0)
                ::shutdown(stream->fd, SHUT_RDWR);
            close(stream);
        }
    }
}

void StreamWriter::deliver(const QByteArray &frames)
{
    for (Stream *stream : m_streams) {
        if (stream->fd >= 0)
            send(stream, frames.constData(), frames.size());
    }
}

void StreamWriter::send(Stream *stream, const char *data, qsizetype size)
{
    if (stream->backlog.size() - stream->sent + size > m_maxBacklogBytes) {
        m_dropped.fetch_add(1);
        qCWarning(lcSse, "dropping subscriber %s: %lld bytes unsent (it reconnects)",
                  qPrintable(peerName(stream->fd)),
                  static_cast<long long>(stream->backlog.size() - stream->sent));
        close(stream);
        return;
    }
    if (stream->waitingForWritable) {
        stream->backlog.append(data, size);
        return;
    }
    qsizetype written = 0;
    while (written < size) {
        const ssize_t n =
            ::send(stream->fd, data + written, size_t(size - written), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            written += n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            close(stream); // the client is gone
            return;
        }
    }
    if (written == size)
        return;
    stream->backlog.append(data + written, size - written);
    stream->waitingForWritable = true;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT;
    event.data.ptr = stream;
    ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, stream->fd, &event);
}

void StreamWriter::flush(Stream *stream)
{
    while (stream->sent < stream->backlog.size()) {
        const ssize_t n =
            ::send(stream->fd, stream->backlog.constData() + stream->sent,
                   size_t(stream->backlog.size() - stream->sent), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            stream->sent += n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            close(stream);
            return;
        }
    }
    stream->backlog.clear();
    stream->sent = 0;
    stream->waitingForWritable = false;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.ptr = stream;
    ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, stream->fd, &event);
}

void StreamWriter::discardInput(Stream *stream)
{
    char buffer[1024];
    for (;;) {
        const ssize_t n = ::recv(stream->fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0)
            continue; // an event-stream client has nothing to say
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        close(stream); // end of stream or error: the client went away
        return;
    }
}

void StreamWriter::close(Stream *stream)
{
    if (stream->fd < 0)
        return;
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, stream->fd, nullptr);
    ::close(stream->fd);
    stream->fd = -1;
    stream->backlog = QByteArray();
    m_count.fetch_sub(1);
    m_budget.release();
}
