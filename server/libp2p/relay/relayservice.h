#pragma once

#include "circuitcounter.h"
#include "libp2p/identitykey.h"
#include "libp2p/multiaddr.h"
#include "libp2p/peerid.h"
#include "libp2p/protocolregistry.h"
#include "relaylimits.h"
#include "relaymessages.h"
#include "relaystats.h"
#include "reservationstore.h"

#include <atomic>
#include <memory>

class Circuit;
class Libp2pHost;
class Libp2pStream;

// A circuit relay v2 on the daemon's libp2p host: answers the hop protocol (RESERVE and
// CONNECT) and opens stop streams to targets. Runs on the host's thread; its handlers and
// circuits keep it alive, so it outlives the host that serves it.
class RelayService : public std::enable_shared_from_this<RelayService>
{
public:
    RelayService(const IdentityKey &identity, const RelayLimits &limits);

    // Before the host starts: where stop streams are opened and what reservations advertise.
    void setHost(Libp2pHost *host) { m_host = host; }
    ProtocolRegistry::Factory hopFactory();
    // For Libp2pHost::Options::connectionClosed and keepIdleConnection.
    void connectionClosed(const PeerId &peer, const Multiaddr &remote);
    bool holdsReservation(const PeerId &peer, const Multiaddr &remote) const;

    // The answer to a RESERVE on `stream`.
    RelayMessages::HopMessage reserve(const Libp2pStream &stream);
    // A CONNECT on `stream`: the circuit, asking its target; or nothing and the refusal.
    std::shared_ptr<Circuit> connect(Libp2pStream &stream, const RelayMessages::HopMessage &request,
                                     RelayMessages::Status *refusal);
    void circuitEnded(const Circuit &circuit);

    const RelayLimits &limits() const { return m_limits; }
    // Nothing when neither limit is set: the spec reads an absent Limit as "no limits", and
    // clients treat a connection with any Limit as limited.
    std::optional<RelayMessages::Limit> limitMessage() const;

    // Readable from any thread (for /metrics).
    RelayStats stats() const;
    int reservationCount() const { return m_reservationCount; }
    int circuitCount() const { return m_circuitCount; }

    // From the circuits, as they go.
    enum class CircuitOutcome
    {
        Opened,
        Refused,
        Limited
    };
    void count(CircuitOutcome outcome);
    void countRelayed(qsizetype bytes) { m_bytesRelayed.fetch_add(quint64(bytes), relaxed); }

private:
    static constexpr auto relaxed = std::memory_order_relaxed;
    void publishCounts();

    const IdentityKey m_identity;
    const PeerId m_peerId;
    const RelayLimits m_limits;
    Libp2pHost *m_host = nullptr;
    ReservationStore m_reservations;
    CircuitCounter m_circuits;
    std::atomic<int> m_reservationCount{0};
    std::atomic<int> m_circuitCount{0};
    std::atomic<quint64> m_reservationsGranted{0};
    std::atomic<quint64> m_reservationsRefused{0};
    std::atomic<quint64> m_circuitsOpened{0};
    std::atomic<quint64> m_circuitsRefused{0};
    std::atomic<quint64> m_circuitsLimited{0};
    std::atomic<quint64> m_bytesRelayed{0};
};
