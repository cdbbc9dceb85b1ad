#include "heaptrimmer.h"

#include "logcategories.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

HeapTrimmer::HeapTrimmer(std::chrono::milliseconds interval, qint64 threshold, QObject *parent)
    : QObject(parent), m_threshold(threshold)
{
    connect(&m_timer, &QTimer::timeout, this, &HeapTrimmer::trimIfWorthIt);
    m_timer.start(interval);
}

qint64 HeapTrimmer::trimIfWorthIt()
{
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
    // fordblks: the bytes in free chunks, in every arena.
    const auto freeBytes = static_cast<qint64>(mallinfo2().fordblks);
    if (freeBytes >= m_threshold) {
        malloc_trim(0);
        qCDebug(lcApp, "returned free heap pages to the system (%lld bytes were free)",
                static_cast<long long>(freeBytes));
    }
    return freeBytes;
#else
    return -1;
#endif
}
