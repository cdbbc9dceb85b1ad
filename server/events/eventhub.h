#pragma once

#include "socketio.h"

#include <QByteArray>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

class ConnectionBudget;
class StreamWriter;

// The SSE fan-out. Streams live outside Qt's event loops: each is a bare socket owned by one of
// a few writer threads that wait on a SocketPoller (epoll on Linux), so that tens of thousands of
// idle streams cost neither a QTcpSocket each nor a scan at every event-loop wake-up (QT64.md), and
// each event is serialized once for all of them.
//
// A stream whose unsent bytes exceed the backlog cap is disconnected (its client reconnects and
// reloads /peers.json); a stream that keeps up never loses an event. All members are
// thread-safe.
class EventHub
{
public:
    struct Options
    {
        qint64 maxBacklogBytes = 1024 * 1024;
        std::chrono::milliseconds heartbeat{25000};
        int writerThreads = 2;
        SocketIo::Calls calls = SocketIo::Calls::Best;
    };

    EventHub(const Options &options, ConnectionBudget &budget);
    ~EventHub(); // closes every stream and stops the writers

    // Takes over `socket` (connected, non-blocking; it counts in the budget from now on).
    // `greeting` (the response head and `: ok`) is sent first; every event broadcast after this
    // call follows it.
    void subscribe(SocketIo::Handle socket, const QByteArray &greeting);

    // Sends `frame` (complete SSE frames) to every stream, in the order of the calls.
    void broadcast(const QByteArray &frame);

    // Ends every stream (at shutdown), after a last attempt to send what is pending.
    void closeAll();

    int subscriberCount() const;
    QString sendMethod() const; // how the writers send, for the log: FanOutSender::description()
    qint64 droppedCount() const { return m_dropped.load(); }
    qint64 deliveredCount() const { return m_delivered.load(); } // events times streams

private:
    std::vector<std::unique_ptr<StreamWriter>> m_writers;
    std::atomic<unsigned> m_next{0};
    std::atomic<qint64> m_dropped{0};
    std::atomic<qint64> m_delivered{0};
};
