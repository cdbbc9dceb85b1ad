#include "circuitcounter.h"

bool CircuitCounter::tryOpen(const PeerId &source, const PeerId &target)
{
    if (m_total >= m_limits.maxCircuits || countFor(source) >= m_limits.maxCircuitsPerPeer ||
        countFor(target) >= m_limits.maxCircuitsPerPeer)
        return false;
    ++m_total;
    ++m_perPeer[source.bytes()];
    ++m_perPeer[target.bytes()];
    return true;
}

void CircuitCounter::close(const PeerId &source, const PeerId &target)
{
    --m_total;
    for (const QByteArray &peer : {source.bytes(), target.bytes()}) {
        const auto it = m_perPeer.find(peer);
        if (it != m_perPeer.end() && --it->second <= 0)
            m_perPeer.erase(it);
    }
}

int CircuitCounter::countFor(const PeerId &peer) const
{
    const auto it = m_perPeer.find(peer.bytes());
    return it == m_perPeer.end() ? 0 : it->second;
}
