#pragma once

#include "libp2p/multiaddr.h"
#include "libp2p/peerid.h"
#include "relaylimits.h"

#include <QHostAddress>

#include <optional>
#include <vector>

// The relay's reservations, bounded in all, per peer and per IP address. A reservation lives
// until it expires or the connection it was made on closes (circuit-v2.md: "If the peer
// disconnects, the reservation is no longer valid"). Time comes in as UNIX seconds, so that
// tests need no clock.
class ReservationStore
{
public:
    explicit ReservationStore(const RelayLimits &limits) : m_limits(limits) {}

    // Makes or refreshes the reservation of `peer` on the connection from `connection`; the
    // expiry time, or nothing when a limit refuses it (a refresh is never refused).
    std::optional<qint64> reserve(const PeerId &peer, const Multiaddr &connection,
                                  const QHostAddress &ip, qint64 now);
    // The connection of a live reservation of `peer` (its latest), to open the stop stream on.
    std::optional<Multiaddr> reservedConnection(const PeerId &peer, qint64 now) const;
    // Whether a live reservation was made on this connection (the host keeps it open).
    bool holdsConnection(const PeerId &peer, const Multiaddr &connection, qint64 now) const;
    void connectionClosed(const PeerId &peer, const Multiaddr &connection);
    void expire(qint64 now);
    int count() const { return int(m_reservations.size()); }

private:
    struct Entry
    {
        PeerId peer;
        Multiaddr connection;
        QHostAddress ip;
        qint64 expires = 0;
    };

    const RelayLimits &m_limits;
    // Small (128 by default) and scanned whole: cheaper than indexes kept in step.
    std::vector<Entry> m_reservations;
};
