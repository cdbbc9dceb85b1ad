#pragma once

#include "socketio.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

class ConnectionBudget;
class QObject;
class QThread;
class SocketPoller;

// Where keep-alive connections wait between requests, away from the HTTP threads. Qt 6.4's
// event loop looks at every one of its sockets at every wake-up, so 15,000 idle keep-alive
// connections made each request on the others 35 times slower; here one thread waits on them
// with epoll, whose cost does not grow with their number, and hands a connection back to its
// HTTP thread when the client sends its next request. A client that closes or stays silent
// past its idle timeout is closed here, without ever going back.
//
// A parked connection keeps its place in the connection budget until it is closed.
class IdleConnectionPark
{
public:
    using Clock = std::chrono::steady_clock;
    // Takes the connection back (in `home`'s thread) with its place in the budget.
    using TakeBack = std::function<void(SocketIo::Handle socket)>;

    explicit IdleConnectionPark(ConnectionBudget &budget);
    ~IdleConnectionPark(); // closes what it holds

    // Holds `socket` (a descriptor of its own) until the client sends something, then calls
    // `takeBack` in `home`'s thread; or, if the client closes or `closeAt` passes first, closes
    // it and releases its place. Thread-safe; `home` must outlive closeAll().
    void park(SocketIo::Handle socket, Clock::time_point closeAt, QObject *home, TakeBack takeBack);

    // Closes every connection held, and from now on every one parked (a server that stops);
    // once it returns, nothing is handed back any more.
    void closeAll();

    qint64 parkedCount() const { return m_count.load(std::memory_order_relaxed); }

private:
    struct Parked
    {
        SocketIo::Handle socket = SocketIo::invalidHandle;
        Clock::time_point closeAt;
        QObject *home = nullptr;
        TakeBack takeBack;
    };

    void run();
    void admitArrivals();
    void wakeUp(SocketIo::Handle socket);
    void closeExpired();
    void close(std::list<Parked>::iterator parked);

    ConnectionBudget &m_budget;
    const std::unique_ptr<SocketPoller> m_poller;
    std::unique_ptr<QThread> m_thread;
    std::atomic<qint64> m_count{0};

    std::mutex m_arrivalsMutex;
    std::vector<Parked> m_arrivals; // parked, not yet watched
    bool m_closing = false;

    // The park thread's own: in the order they are to be closed.
    std::list<Parked> m_byDeadline;
    std::unordered_map<SocketIo::Handle, std::list<Parked>::iterator> m_bySocket;
};
