#pragma once

#include <QByteArray>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

class ConnectionBudget;

// One writer thread of the EventHub: owns a set of stream descriptors, waits on epoll, and
// writes each batch of frames to every stream with one send() each; what a socket does not take
// waits in that stream's backlog until epoll says it is writable again.
class StreamWriter
{
public:
    StreamWriter(qint64 maxBacklogBytes, std::chrono::milliseconds heartbeat,
                 ConnectionBudget &budget, std::atomic<qint64> &droppedCounter,
                 std::atomic<qint64> &deliveredCounter);
    ~StreamWriter();

    void add(int socketDescriptor, const QByteArray &greeting);
    void post(const QByteArray &frames);
    void closeAll();
    int count() const { return m_count.load(); }

private:
    struct Stream
    {
        int fd = -1;
        QByteArray backlog; // bytes the socket has not taken yet
        qsizetype sent = 0; // of backlog
        bool waitingForWritable = false;
    };

    void run();
    void takeInbox();
    void deliver(const QByteArray &frames);
    void send(Stream *stream, const char *data, qsizetype size);
    void flush(Stream *stream);
    void discardInput(Stream *stream);
    void close(Stream *stream);
    void wake();

    const qint64 m_maxBacklogBytes;
    const std::chrono::milliseconds m_heartbeat;
    ConnectionBudget &m_budget;
    std::atomic<qint64> &m_dropped;
    std::atomic<qint64> &m_delivered;
    int m_epoll = -1;
    int m_wakeup = -1; // an eventfd

    std::mutex m_inboxMutex;
    std::vector<std::pair<int, QByteArray>> m_incoming; // guarded by m_inboxMutex
    QByteArray m_frames;
    qint64 m_frameCount =
        0; // guarded by m_inboxMutex                                // guarded by m_inboxMutex
    bool m_closeAll = false; // guarded by m_inboxMutex
    bool m_stop = false;     // guarded by m_inboxMutex

    std::vector<Stream *> m_streams; // the writer thread's own
    std::atomic<int> m_count{0};
    std::thread m_thread;
};
