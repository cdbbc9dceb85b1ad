#pragma once

#include "libp2p/peerid.h"
#include "relaylimits.h"

#include <map>

// How many circuits are open, in all and per peer (as source or target), against the limits;
// a circuit counts from its CONNECT until both of its streams are gone.
class CircuitCounter
{
public:
    explicit CircuitCounter(const RelayLimits &limits) : m_limits(limits) {}

    bool tryOpen(const PeerId &source, const PeerId &target);
    void close(const PeerId &source, const PeerId &target);
    int count() const { return m_total; }
    int countFor(const PeerId &peer) const;

private:
    const RelayLimits &m_limits;
    int m_total = 0;
    std::map<QByteArray, int> m_perPeer; // by peer ID bytes; entries at 0 are removed
};
