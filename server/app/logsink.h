#pragma once

#include <QByteArray>
#include <QStringList>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

// Where log lines go: stderr, written by a thread of its own so that a slow journal or
// terminal never blocks serving (when the queue is full, lines are dropped and counted), and
// a ring of recent lines for /logs.json.
class LogSink
{
public:
    static constexpr int recentLineCount = 500;
    static constexpr int maxQueuedLines = 20000;

    LogSink();
    ~LogSink(); // writes what is queued, then stops the writer

    void write(QByteArray stderrLine, QString recentLine);

    // The recent lines as Go's json.Encoder writes a []string: `["…","…"]\n`.
    QByteArray recentLinesJson() const;

private:
    void run();

    // The standard library's, not Qt's: ThreadSanitizer sees these (tests/sanitizers).
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<QByteArray> m_queue;
    std::deque<QString> m_recent;
    qint64 m_dropped = 0;
    bool m_stopping = false;
    std::thread m_writer;
};
