#pragma once

#include "fanoutsender.h"
#include "socketpoller.h"

#include <QByteArray>
#include <QThread>

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

class ConnectionBudget;

// One writer thread of the EventHub: owns a set of stream sockets, waits on a SocketPoller, and
// offers each batch of frames to every stream at once through a FanOutSender; what a socket does
// not take waits in that stream's backlog until the poller says it is writable again.
class StreamWriter
{
public:
    StreamWriter(qint64 maxBacklogBytes, std::chrono::milliseconds heartbeat,
                 ConnectionBudget &budget, std::atomic<qint64> &droppedCounter,
                 std::atomic<qint64> &deliveredCounter,
                 SocketIo::Calls calls = SocketIo::Calls::Best);
    ~StreamWriter();

    void add(SocketIo::Handle socket, const QByteArray &greeting);
    void post(const QByteArray &frames);
    void closeAll();
    int count() const { return m_count.load(); }
    QString sendMethod() const { return m_sender->description(); }

private:
    struct Stream
    {
        SocketIo::Handle fd = SocketIo::invalidHandle;
        QByteArray backlog; // bytes the socket has not taken yet; while any, it waits for room
        qsizetype sent = 0; // of backlog
    };

    void run();
    void takeInbox();
    void deliver(QByteArrayView frames, qint64 frameCount);
    void send(Stream *stream, const char *data, qsizetype size);
    // Queues what the socket did not take, or drops the stream when its backlog would pass the cap.
    void keep(Stream *stream, const char *data, qsizetype size);
    void flush(Stream *stream);
    // What the socket takes now, without waiting; -1 when the client is gone (then closed).
    qint64 sendWhatFits(Stream *stream, const char *data, qint64 size);
    void discardInput(Stream *stream);
    void close(Stream *stream);

    const qint64 m_maxBacklogBytes;
    const std::chrono::milliseconds m_heartbeat;
    ConnectionBudget &m_budget;
    std::atomic<qint64> &m_dropped;
    std::atomic<qint64> &m_delivered;
    std::unique_ptr<SocketPoller> m_poller;
    std::unique_ptr<FanOutSender> m_sender;

    std::mutex m_inboxMutex;
    // A stream added while frames wait in the inbox gets only the frames posted after it.
    struct Incoming
    {
        SocketIo::Handle socket;
        QByteArray greeting;
        qsizetype framesBefore; // bytes of m_frames posted before it
        qint64 frameCountBefore;
    };
    std::vector<Incoming> m_incoming; // guarded by m_inboxMutex
    QByteArray m_frames;              // guarded by m_inboxMutex
    qint64 m_frameCount = 0;          // guarded by m_inboxMutex
    bool m_closeAll = false;          // guarded by m_inboxMutex
    bool m_stop = false;              // guarded by m_inboxMutex

    std::vector<Stream *> m_streams; // the writer thread's own
    // deliver()'s lists, kept to spare an allocation per event: the streams with nothing
    // pending, their sockets, and what each took.
    std::vector<Stream *> m_receivers;
    std::vector<SocketIo::Handle> m_sockets;
    std::vector<qint64> m_taken;
    std::atomic<int> m_count{0};
    std::unique_ptr<QThread> m_thread;
};
