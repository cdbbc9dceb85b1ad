#include "socketpoller.h"

#include <QHash>

#ifdef Q_OS_WIN
#include <winsock2.h>
#else
#include <poll.h>
#endif
#ifdef Q_OS_LINUX
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#endif

namespace {

// poll() (WSAPoll on Windows): one entry per socket, the wake-up pair's reading end first.
class PortablePoller final : public SocketPoller
{
public:
    PortablePoller()
    {
        if (!SocketIo::connectedPair(m_wakeup))
            qFatal("cannot create a wake-up socket pair: %s", qPrintable(SocketIo::lastError()));
        m_entries.push_back(entry(m_wakeup[0], false));
        m_tags.push_back(nullptr);
    }
    ~PortablePoller() override
    {
        SocketIo::close(m_wakeup[0]);
        SocketIo::close(m_wakeup[1]);
    }

    void add(SocketIo::Handle socket, void *tag) override
    {
        m_index.insert(socket, m_entries.size());
        m_entries.push_back(entry(socket, false));
        m_tags.push_back(tag);
    }

    void watchOutput(SocketIo::Handle socket, void *, bool on) override
    {
        const auto found = m_index.constFind(socket);
        if (found != m_index.cend())
            m_entries[*found].events = on ? POLLIN | POLLOUT : POLLIN;
    }

    void remove(SocketIo::Handle socket) override
    {
        const auto found = m_index.find(socket);
        if (found == m_index.end())
            return;
        // The last entry takes the removed one's place: no gaps, no shifting.
        const size_t place = *found;
        m_index.erase(found);
        if (place != m_entries.size() - 1) {
            m_entries[place] = m_entries.back();
            m_tags[place] = m_tags.back();
            m_index[SocketIo::Handle(m_entries[place].fd)] = place;
        }
        m_entries.pop_back();
        m_tags.pop_back();
    }

    const std::vector<Ready> &wait(std::chrono::milliseconds timeout) override
    {
        m_ready.clear();
#ifdef Q_OS_WIN
        const int count =
            ::WSAPoll(m_entries.data(), ULONG(m_entries.size()), int(timeout.count()));
#else
        const int count = ::poll(m_entries.data(), nfds_t(m_entries.size()), int(timeout.count()));
#endif
        if (count <= 0)
            return m_ready;
        if (m_entries[0].revents != 0) {
            char drain[64];
            while (SocketIo::receiveNow(m_wakeup[0], drain, sizeof drain) > 0) {
            }
        }
        for (size_t i = 1; i < m_entries.size(); ++i) {
            const short events = m_entries[i].revents;
            if (events == 0)
                continue;
            m_ready.push_back(Ready{m_tags[i],
                                    (events & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0,
                                    (events & POLLOUT) != 0});
        }
        return m_ready;
    }

    void wake() override
    {
        const char byte = 1;
        SocketIo::sendNow(m_wakeup[1], &byte, 1); // a full pair already has a wake-up pending
    }

private:
#ifdef Q_OS_WIN
    using Entry = WSAPOLLFD;
#else
    using Entry = pollfd;
#endif
    static Entry entry(SocketIo::Handle socket, bool output)
    {
        Entry e{};
        e.fd = decltype(e.fd)(socket);
        e.events = output ? POLLIN | POLLOUT : POLLIN;
        return e;
    }

    SocketIo::Handle m_wakeup[2] = {SocketIo::invalidHandle, SocketIo::invalidHandle};
    std::vector<Entry> m_entries;
    std::vector<void *> m_tags; // parallel to m_entries
    QHash<SocketIo::Handle, size_t> m_index;
    std::vector<Ready> m_ready;
};

#ifdef Q_OS_LINUX
// epoll, woken through an eventfd; a socket's tag rides in the epoll event itself.
class EpollPoller final : public SocketPoller
{
public:
    EpollPoller()
    {
        m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
        m_wakeup = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (m_epoll < 0 || m_wakeup < 0)
            qFatal("cannot create an epoll set: %s", qPrintable(SocketIo::lastError()));
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.ptr = nullptr; // marks the wake-up
        ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wakeup, &event);
        m_events.resize(512);
    }
    ~EpollPoller() override
    {
        ::close(m_epoll);
        ::close(m_wakeup);
    }

    void add(SocketIo::Handle socket, void *tag) override
    {
        control(EPOLL_CTL_ADD, socket, tag, false);
    }
    void watchOutput(SocketIo::Handle socket, void *tag, bool on) override
    {
        control(EPOLL_CTL_MOD, socket, tag, on);
    }
    void remove(SocketIo::Handle socket) override
    {
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, int(socket), nullptr);
    }

    const std::vector<Ready> &wait(std::chrono::milliseconds timeout) override
    {
        m_ready.clear();
        const int count =
            ::epoll_wait(m_epoll, m_events.data(), int(m_events.size()), int(timeout.count()));
        for (int i = 0; i < count; ++i) {
            const epoll_event &event = m_events[size_t(i)];
            if (event.data.ptr == nullptr) {
                quint64 counter;
                [[maybe_unused]] const auto read = ::read(m_wakeup, &counter, sizeof counter);
                continue;
            }
            m_ready.push_back(Ready{
                event.data.ptr, (event.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0,
                (event.events & EPOLLOUT) != 0});
        }
        return m_ready;
    }

    void wake() override
    {
        const quint64 one = 1;
        [[maybe_unused]] const auto written = ::write(m_wakeup, &one, sizeof one);
    }

private:
    void control(int operation, SocketIo::Handle socket, void *tag, bool output)
    {
        epoll_event event{};
        event.events = EPOLLIN | EPOLLRDHUP | (output ? EPOLLOUT : 0u);
        event.data.ptr = tag;
        ::epoll_ctl(m_epoll, operation, int(socket), &event);
    }

    int m_epoll = -1;
    int m_wakeup = -1;
    std::vector<epoll_event> m_events;
    std::vector<Ready> m_ready;
};
#endif

} // namespace

std::unique_ptr<SocketPoller> SocketPoller::create(SocketIo::Calls calls)
{
    SocketIo::initialize();
#ifdef Q_OS_LINUX
    if (calls == SocketIo::Calls::Best)
        return std::make_unique<EpollPoller>();
#else
    Q_UNUSED(calls)
#endif
    return std::make_unique<PortablePoller>();
}
