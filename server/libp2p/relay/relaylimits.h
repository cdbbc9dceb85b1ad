#pragma once

#include <QtGlobal>

#include <chrono>

// What the relay grants, each a --relay-… flag. The defaults are at least as generous as the
// go-libp2p relay today's Goop² server runs (30 min and 16 MiB per circuit, 1 h, 128).
struct RelayLimits
{
    std::chrono::seconds reservationTtl{3600};
    int maxReservations = 128;
    int maxReservationsPerPeer = 4; // one per connection of the peer
    int maxReservationsPerIp = 16;
    int maxCircuits = 1024;
    int maxCircuitsPerPeer = 16;                // as source or target
    std::chrono::seconds circuitDuration{1800}; // 0: none
    quint64 circuitBytes = 16 * 1024 * 1024;    // in each direction; 0: none
    // A target that does not answer the stop stream in this time fails the CONNECT.
    std::chrono::milliseconds connectTimeout{30000};
    // A hop stream that is not a circuit after this time (no request, or an answered one the
    // client keeps open) is reset, as go-libp2p's relay does after a minute, so that silent
    // streams cannot pile up on a connection.
    std::chrono::milliseconds requestTimeout{60000};
};
