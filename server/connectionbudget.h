#pragma once

#include <atomic>

// How many connections are open, across every HTTP thread and the event-stream writers, so
// that one cap covers them all and the process never runs out of file descriptors.
class ConnectionBudget
{
public:
    explicit ConnectionBudget(int max) : m_max(max) {}

    // Takes a place for a new connection; false at the cap.
    bool tryAcquire()
    {
        int inUse = m_inUse.load(std::memory_order_relaxed);
        do {
            if (inUse >= m_max)
                return false;
        } while (!m_inUse.compare_exchange_weak(inUse, inUse + 1, std::memory_order_relaxed));
        return true;
    }
    void release() { m_inUse.fetch_sub(1, std::memory_order_relaxed); }

    int inUse() const { return m_inUse.load(std::memory_order_relaxed); }
    int max() const { return m_max; }

private:
    std::atomic<int> m_inUse{0};
    const int m_max;
};
