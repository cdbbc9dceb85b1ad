#pragma once

#include <QByteArray>

// How many log lines about single peers (one came online, went offline, expired) are written:
// at most `perSecond` in a second. A crowd arriving or leaving at once (a restart, an outage)
// would otherwise write a line per peer, 100,000 in a few seconds, which journald drops past its
// own rate limit anyway, which pushes everything else out of /logs.json, and whose buffers,
// freed while the peers' rows are being allocated, leave the heap full of holes. What is held
// back is counted, by kind, and told in one line once its second is over.
class PeerLogBudget
{
public:
    enum Kind
    {
        CameOnline,
        WentOffline,
        Expired,
        Kinds
    };

    explicit PeerLogBudget(int perSecond = 100) : m_perSecond(perSecond) {}

    // Whether a line of `kind` may be written at `nowMs` (a monotonic clock); when not, it is
    // counted. Take the summary of an earlier second first (summary()).
    bool admit(Kind kind, qint64 nowMs);
    // Whether lines are held back; they are told at windowEndMs().
    bool holdsBack() const
    {
        return m_held[CameOnline] + m_held[WentOffline] + m_held[Expired] > 0;
    }
    qint64 windowEndMs() const { return m_windowStartMs + 1000; }
    // What was held back in a second that is over by `nowMs`, as the middle of a log line
    // ("1900 more peers came online, 3 went offline"), and forgets it; empty when there is
    // nothing to tell yet.
    QByteArray takeSummary(qint64 nowMs);

private:
    const int m_perSecond;
    qint64 m_windowStartMs = -1000000;
    int m_written = 0;
    qint64 m_held[Kinds]{};
};
