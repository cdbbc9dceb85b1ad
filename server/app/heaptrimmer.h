#pragma once

#include <QObject>
#include <QTimer>

#include <chrono>

// Gives the heap's free pages back to the system now and then. glibc keeps what the process
// frees in the middle of its heaps (and in each thread's arena) for later, so after a burst (a
// Redis outage's held publishes, a flood of peers that then expired, subscribers dropped with
// their backlogs) RSS stays at the peak although the memory is free. Go's runtime returns such
// pages by itself; here, every `interval`, if malloc holds more than `threshold` bytes free,
// malloc_trim() returns them. Does nothing where the C library is not glibc.
class HeapTrimmer : public QObject
{
    Q_OBJECT

public:
    explicit HeapTrimmer(std::chrono::milliseconds interval = std::chrono::seconds(10),
                         qint64 threshold = 4 * 1024 * 1024, QObject *parent = nullptr);

    // Returns the free pages now if malloc holds more than the threshold free; the free bytes
    // it held before, or -1 where it cannot tell.
    qint64 trimIfWorthIt();

private:
    QTimer m_timer;
    const qint64 m_threshold;
};
