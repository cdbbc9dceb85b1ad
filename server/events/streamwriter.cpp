#include "streamwriter.h"

#include "connectionbudget.h"
#include "logcategories.h"
#include "sseframe.h"

#include <algorithm>

namespace {
using Clock = std::chrono::steady_clock;
}

StreamWriter::StreamWriter(qint64 maxBacklogBytes, std::chrono::milliseconds heartbeat,
                           ConnectionBudget &budget, std::atomic<qint64> &droppedCounter,
                           std::atomic<qint64> &deliveredCounter, SocketIo::Calls calls)
    : m_maxBacklogBytes(maxBacklogBytes), m_heartbeat(heartbeat), m_budget(budget),
      m_dropped(droppedCounter), m_delivered(deliveredCounter),
      m_poller(SocketPoller::create(calls)), m_sender(FanOutSender::create(calls))
{
    m_thread.reset(QThread::create([this] { run(); }));
    m_thread->setObjectName(QStringLiteral("sse-writer")); // in top -H, perf, gdb
    m_thread->start();
}

StreamWriter::~StreamWriter()
{
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        m_stop = true;
        m_closeAll = true;
    }
    m_poller->wake();
    m_thread->wait();
}

void StreamWriter::add(SocketIo::Handle socket, const QByteArray &greeting)
{
    // Counted from now, not from when the writer thread picks it up: EventHub skips writers
    // without streams, and this one must get every event broadcast after this call.
    m_count.fetch_add(1);
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        m_incoming.push_back(Incoming{socket, greeting, m_frames.size(), m_frameCount});
    }
    m_poller->wake();
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
        m_poller->wake();
}

void StreamWriter::closeAll()
{
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        m_closeAll = true;
    }
    m_poller->wake();
}

void StreamWriter::run()
{
    auto nextHeartbeat = Clock::now() + m_heartbeat;
    for (;;) {
        const auto untilHeartbeat =
            std::chrono::duration_cast<std::chrono::milliseconds>(nextHeartbeat - Clock::now());
        for (const SocketPoller::Ready &ready : m_poller->wait(std::max(
                 untilHeartbeat + std::chrono::milliseconds(1), std::chrono::milliseconds(0)))) {
            auto *stream = static_cast<Stream *>(ready.tag);
            if (stream->fd == SocketIo::invalidHandle)
                continue; // closed earlier in this round
            if (ready.input) {
                discardInput(stream);
                if (stream->fd == SocketIo::invalidHandle)
                    continue;
            }
            if (ready.output)
                flush(stream);
        }
        takeInbox();
        if (Clock::now() >= nextHeartbeat) {
            deliver(SseFrame::ping, 0); // not an event
            nextHeartbeat = Clock::now() + m_heartbeat;
        }
        // Streams closed in this round are freed only now: later events may still name them.
        m_streams.erase(std::remove_if(m_streams.begin(), m_streams.end(),
                                       [](Stream *stream) {
                                           if (stream->fd != SocketIo::invalidHandle)
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
    std::vector<Incoming> incoming;
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
    // In the order of the calls: the frames posted before a stream was added go to the streams
    // there were then; the new one gets its greeting and every frame after it.
    qsizetype deliveredBytes = 0;
    qint64 deliveredFrames = 0;
    for (Incoming &next : incoming) {
        deliver(QByteArrayView(frames).sliced(deliveredBytes, next.framesBefore - deliveredBytes),
                next.frameCountBefore - deliveredFrames);
        deliveredBytes = next.framesBefore;
        deliveredFrames = next.frameCountBefore;
        auto *stream = new Stream;
        stream->fd = next.socket;
        m_streams.push_back(stream);
        m_poller->add(next.socket, stream);
        send(stream, next.greeting.constData(), next.greeting.size());
    }
    deliver(QByteArrayView(frames).sliced(deliveredBytes), frameCount - deliveredFrames);
    if (closeAll) {
        for (Stream *stream : m_streams) {
            if (stream->fd == SocketIo::invalidHandle)
                continue;
            flush(stream);
            if (stream->fd != SocketIo::invalidHandle)
                SocketIo::shutdownBoth(stream->fd);
            close(stream);
        }
    }
}

void StreamWriter::deliver(QByteArrayView frames, qint64 frameCount)
{
    if (frames.isEmpty())
        return;
    // A stream still working off a backlog gets the frames behind it; all others at once.
    m_receivers.clear();
    m_sockets.clear();
    for (Stream *stream : m_streams) {
        if (stream->fd == SocketIo::invalidHandle)
            continue;
        if (stream->backlog.isEmpty()) {
            m_receivers.push_back(stream);
            m_sockets.push_back(stream->fd);
        } else {
            keep(stream, frames.data(), frames.size());
        }
    }
    m_sender->sendToEach(m_sockets, frames.data(), frames.size(), m_taken);
    for (size_t i = 0; i < m_receivers.size(); ++i) {
        if (m_taken[i] < 0)
            close(m_receivers[i]); // the client is gone
        else if (m_taken[i] < frames.size())
            keep(m_receivers[i], frames.data() + m_taken[i], frames.size() - m_taken[i]);
    }
    m_delivered.fetch_add(frameCount * qint64(m_streams.size()), std::memory_order_relaxed);
}

void StreamWriter::send(Stream *stream, const char *data, qsizetype size)
{
    if (!stream->backlog.isEmpty()) {
        keep(stream, data, size);
        return;
    }
    const qint64 written = sendWhatFits(stream, data, size);
    if (written >= 0 && written < size)
        keep(stream, data + written, size - written);
}

void StreamWriter::keep(Stream *stream, const char *data, qsizetype size)
{
    const qsizetype unsent = stream->backlog.size() - stream->sent;
    if (unsent + size > m_maxBacklogBytes) {
        m_dropped.fetch_add(1);
        qCWarning(lcSse, "dropping subscriber %s: %lld bytes unsent (it reconnects)",
                  qPrintable(SocketIo::peerName(stream->fd)), static_cast<long long>(unsent));
        close(stream);
        return;
    }
    if (stream->backlog.isEmpty())
        m_poller->watchOutput(stream->fd, stream, true);
    stream->backlog.append(data, size);
}

void StreamWriter::flush(Stream *stream)
{
    const qint64 written = sendWhatFits(stream, stream->backlog.constData() + stream->sent,
                                        stream->backlog.size() - stream->sent);
    if (written < 0)
        return;
    stream->sent += written;
    if (stream->sent < stream->backlog.size())
        return;
    stream->backlog.clear();
    stream->sent = 0;
    m_poller->watchOutput(stream->fd, stream, false);
}

qint64 StreamWriter::sendWhatFits(Stream *stream, const char *data, qint64 size)
{
    qint64 written = 0;
    while (written < size) {
        const qint64 n = SocketIo::sendNow(stream->fd, data + written, size - written);
        if (n < 0) {
            close(stream); // the client is gone
            return -1;
        }
        if (n == 0)
            break;
        written += n;
    }
    return written;
}

void StreamWriter::discardInput(Stream *stream)
{
    char buffer[1024];
    for (;;) {
        const qint64 n = SocketIo::receiveNow(stream->fd, buffer, sizeof buffer);
        if (n == 0)
            return; // an event-stream client has nothing to say; what it said is dropped
        if (n < 0) {
            close(stream); // end of stream or error: the client went away
            return;
        }
    }
}

void StreamWriter::close(Stream *stream)
{
    if (stream->fd == SocketIo::invalidHandle)
        return;
    m_poller->remove(stream->fd);
    SocketIo::close(stream->fd);
    stream->fd = SocketIo::invalidHandle;
    stream->backlog = QByteArray();
    m_count.fetch_sub(1);
    m_budget.release();
}
