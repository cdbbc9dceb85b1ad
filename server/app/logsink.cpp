#include "logsink.h"

#include "jsonwriter.h"

#include <cstdio>

LogSink::LogSink() : m_writer([this] { run(); }) {}

LogSink::~LogSink()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    m_writer.join();
}

void LogSink::write(QByteArray stderrLine, QString recentLine)
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!recentLine.isEmpty()) {
            m_recent.push_back(std::move(recentLine));
            if (m_recent.size() > recentLineCount)
                m_recent.pop_front();
        }
        if (m_queue.size() >= maxQueuedLines) {
            ++m_dropped;
            return;
        }
        m_queue.push_back(std::move(stderrLine));
    }
    m_wake.notify_one();
}

QByteArray LogSink::recentLinesJson() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    QByteArray out = "[";
    for (const QString &line : m_recent) {
        if (out.size() > 1)
            out.append(',');
        JsonWriter::appendString(out, line.toUtf8());
    }
    return out.append("]\n");
}

void LogSink::run()
{
    std::unique_lock<std::mutex> locker(m_mutex);
    for (;;) {
        m_wake.wait(locker, [this] { return !m_queue.empty() || m_stopping; });
        if (m_queue.empty())
            return;
        std::deque<QByteArray> batch;
        batch.swap(m_queue);
        const qint64 dropped = std::exchange(m_dropped, 0);
        locker.unlock();
        if (dropped > 0)
            std::fprintf(stderr,
                         "goop.server.app: %lld log lines dropped: stderr was not keeping up\n",
                         static_cast<long long>(dropped));
        for (const QByteArray &line : batch)
            std::fwrite(line.constData(), 1, static_cast<size_t>(line.size()), stderr);
        std::fflush(stderr);
        locker.lock();
    }
}
