#pragma once

// The books of a soak run (goop-meshbench --soak): which heartbeats the servers accepted
// (answered 204) and which of them each subscriber got, so that at the end every loss is
// counted exactly, with when it happened (and whether a newer heartbeat of the same publisher
// made up for it), and every event that came after a newer one from the same publisher is
// counted as out of order. One bit per (subscriber, publisher, heartbeat):
// 1,000 peers for an hour is 90 MB.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

class SoakLedger
{
public:
    enum class Arrival
    {
        InOrder,
        OutOfOrder, // after a newer heartbeat of the same publisher
        Duplicate
    };

    SoakLedger(size_t peers, size_t slots)
        : m_peers(peers), m_words((slots + 63) / 64), m_accepted(peers * m_words, 0),
          m_received(peers * peers * m_words, 0), m_newest(peers * peers, 0), m_reset(peers, false)
    {}

    size_t slots() const { return m_words * 64; }

    // The server answered 204 to publisher p's heartbeat of `slot`, which counts (it falls in
    // the measured window).
    void accepted(size_t p, size_t slot)
    {
        if (slot < slots())
            m_accepted[p * m_words + slot / 64] |= bit(slot);
    }

    Arrival received(size_t subscriber, size_t publisher, size_t slot)
    {
        if (slot >= slots())
            return Arrival::InOrder;
        uint64_t &word = m_received[(subscriber * m_peers + publisher) * m_words + slot / 64];
        if (word & bit(slot))
            return Arrival::Duplicate;
        word |= bit(slot);
        uint32_t &newest = m_newest[subscriber * m_peers + publisher]; // 1 + slot, 0: none
        if (slot + 1 < newest)
            return Arrival::OutOfOrder;
        newest = static_cast<uint32_t>(slot + 1);
        return Arrival::InOrder;
    }

    // The subscriber's stream started over without its missed events (a resume the server
    // could not honour): it no longer counts as one that kept up.
    void reset(size_t subscriber) { m_reset[subscriber] = true; }
    bool wasReset(size_t subscriber) const { return m_reset[subscriber]; }

    struct Totals
    {
        uint64_t accepted = 0; // heartbeats answered 204
        uint64_t expected = 0; // accepted x the subscribers that kept up
        uint64_t missing = 0;  // of expected, never received
        // Of those missing, the ones a later heartbeat of the same publisher made up for: the
        // subscriber has the peer's newer state (what a Redis outage may cost, by design).
        uint64_t superseded = 0;
        size_t keptUp = 0; // subscribers without a reset
        std::vector<uint64_t> missingBySlot;
        std::vector<uint64_t> supersededBySlot;
    };

    Totals totals() const
    {
        Totals t;
        t.missingBySlot.assign(slots(), 0);
        t.supersededBySlot.assign(slots(), 0);
        for (size_t s = 0; s < m_peers; ++s)
            t.keptUp += m_reset[s] ? 0 : 1;
        for (size_t p = 0; p < m_peers; ++p) {
            const uint64_t *accepted = &m_accepted[p * m_words];
            for (size_t w = 0; w < m_words; ++w)
                t.accepted += static_cast<uint64_t>(__builtin_popcountll(accepted[w]));
            for (size_t s = 0; s < m_peers; ++s) {
                if (m_reset[s])
                    continue;
                const uint64_t *received = &m_received[(s * m_peers + p) * m_words];
                const uint32_t newest = m_newest[s * m_peers + p];
                for (size_t w = 0; w < m_words; ++w) {
                    for (uint64_t lost = accepted[w] & ~received[w]; lost; lost &= lost - 1) {
                        const size_t slot = w * 64 + static_cast<size_t>(__builtin_ctzll(lost));
                        ++t.missing;
                        ++t.missingBySlot[slot];
                        if (slot + 1 < newest) {
                            ++t.superseded;
                            ++t.supersededBySlot[slot];
                        }
                    }
                }
            }
        }
        t.expected = t.accepted * t.keptUp;
        return t;
    }

private:
    static uint64_t bit(size_t slot) { return uint64_t(1) << (slot % 64); }

    const size_t m_peers;
    const size_t m_words; // per (subscriber, publisher)
    std::vector<uint64_t> m_accepted;
    std::vector<uint64_t> m_received;
    std::vector<uint32_t> m_newest;
    std::vector<bool> m_reset;
};
