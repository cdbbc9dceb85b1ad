#include "idleconnectionpark.h"

#include "connectionbudget.h"
#include "ownthread.h"
#include "socketpoller.h"
#include "threadsanitizer.h"

#include <QMetaObject>
#include <QThread>

namespace {

// A connection on its way back to its HTTP thread. If it never gets there (the thread ended
// first and Qt dropped the call), it is closed and its place released.
class Returning
{
public:
    Returning(SocketIo::Handle socket, ConnectionBudget &budget)
        : m_socket(socket), m_budget(budget)
    {}
    ~Returning()
    {
        if (m_socket == SocketIo::invalidHandle)
            return;
        SocketIo::close(m_socket);
        m_budget.release();
    }
    SocketIo::Handle take() { return std::exchange(m_socket, SocketIo::invalidHandle); }

private:
    SocketIo::Handle m_socket;
    ConnectionBudget &m_budget;
};

} // namespace

IdleConnectionPark::IdleConnectionPark(ConnectionBudget &budget)
    : m_budget(budget), m_poller(SocketPoller::create())
{
    m_thread = startOwnThread(this, QStringLiteral("http-park"), [this] { run(); });
}

IdleConnectionPark::~IdleConnectionPark()
{
    closeAll();
}

void IdleConnectionPark::park(SocketIo::Handle socket, Clock::time_point closeAt, QObject *home,
                              TakeBack takeBack)
{
    bool closing = false;
    bool first = false;
    {
        std::lock_guard<std::mutex> lock(m_arrivalsMutex);
        closing = m_closing;
        if (!closing) {
            first = m_arrivals.empty();
            m_arrivals.push_back({socket, closeAt, home, std::move(takeBack)});
            m_count.fetch_add(1, std::memory_order_relaxed);
        }
    }
    if (closing) {
        SocketIo::close(socket);
        m_budget.release();
    } else if (first) {
        m_poller->wake(); // one wake-up for a batch: the thread takes every arrival at once
    }
}

void IdleConnectionPark::closeAll()
{
    {
        std::lock_guard<std::mutex> lock(m_arrivalsMutex);
        if (m_closing)
            return;
        m_closing = true;
    }
    m_poller->wake();
    waitForOwnThread(this, *m_thread);
}

void IdleConnectionPark::run()
{
    for (;;) {
        admitArrivals();
        {
            std::lock_guard<std::mutex> lock(m_arrivalsMutex);
            if (m_closing)
                break;
        }
        closeExpired();
        // Until the first deadline, and at most a minute: the clock may have been adjusted.
        std::chrono::milliseconds timeout(60000);
        if (!m_byDeadline.empty())
            timeout = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(
                                     m_byDeadline.front().closeAt - Clock::now()),
                                 std::chrono::milliseconds(0), timeout);
        for (const SocketPoller::Ready &ready : m_poller->wait(timeout))
            wakeUp(static_cast<Parked *>(ready.tag)->socket);
    }
    while (!m_byDeadline.empty())
        close(m_byDeadline.begin());
}

void IdleConnectionPark::admitArrivals()
{
    std::vector<Parked> arrivals;
    {
        std::lock_guard<std::mutex> lock(m_arrivalsMutex);
        arrivals.swap(m_arrivals);
    }
    for (Parked &arrival : arrivals) {
        // Deadlines arrive nearly in order: the place is found from the back in a step or two.
        auto place = m_byDeadline.end();
        while (place != m_byDeadline.begin() && std::prev(place)->closeAt > arrival.closeAt)
            --place;
        const auto parked = m_byDeadline.insert(place, std::move(arrival));
        m_bySocket.emplace(parked->socket, parked);
        m_poller->add(parked->socket, &*parked);
    }
}

void IdleConnectionPark::wakeUp(SocketIo::Handle socket)
{
    const auto found = m_bySocket.find(socket);
    if (found == m_bySocket.end())
        return;
    char byte;
    const qint64 waiting = SocketIo::peekNow(socket, &byte, 1);
    if (waiting == 0)
        return; // nothing after all
    if (waiting < 0) {
        close(found->second); // the client went away: the common end of a keep-alive connection
        return;
    }
    // The next request: back to the HTTP thread, which reads it from the socket.
    const auto parked = found->second;
    m_poller->remove(socket);
    auto returning = std::make_shared<Returning>(socket, m_budget);
    ThreadSanitizer::release(returning.get());
    QMetaObject::invokeMethod(
        parked->home,
        [returning, takeBack = std::move(parked->takeBack)] {
            ThreadSanitizer::acquire(returning.get());
            takeBack(returning->take());
        },
        Qt::QueuedConnection);
    m_bySocket.erase(found);
    m_byDeadline.erase(parked);
    m_count.fetch_sub(1, std::memory_order_relaxed);
}

void IdleConnectionPark::closeExpired()
{
    const Clock::time_point now = Clock::now();
    while (!m_byDeadline.empty() && m_byDeadline.front().closeAt <= now)
        close(m_byDeadline.begin());
}

void IdleConnectionPark::close(std::list<Parked>::iterator parked)
{
    m_poller->remove(parked->socket);
    SocketIo::close(parked->socket);
    m_budget.release();
    m_bySocket.erase(parked->socket);
    m_byDeadline.erase(parked);
    m_count.fetch_sub(1, std::memory_order_relaxed);
}
