#include "reservationstore.h"

#include <algorithm>

std::optional<qint64> ReservationStore::reserve(const PeerId &peer, const Multiaddr &connection,
                                                const QHostAddress &ip, qint64 now)
{
    expire(now);
    const qint64 expires = now + m_limits.reservationTtl.count();
    for (Entry &entry : m_reservations) {
        if (entry.peer == peer && entry.connection == connection) {
            entry.expires = expires;
            return expires;
        }
    }
    if (count() >= m_limits.maxReservations)
        return std::nullopt;
    const auto samePeer = std::count_if(m_reservations.begin(), m_reservations.end(),
                                        [&](const Entry &entry) { return entry.peer == peer; });
    const auto sameIp = std::count_if(m_reservations.begin(), m_reservations.end(),
                                      [&](const Entry &entry) { return entry.ip == ip; });
    if (samePeer >= m_limits.maxReservationsPerPeer || sameIp >= m_limits.maxReservationsPerIp)
        return std::nullopt;
    m_reservations.push_back({peer, connection, ip, expires});
    return expires;
}

std::optional<Multiaddr> ReservationStore::reservedConnection(const PeerId &peer, qint64 now) const
{
    const Entry *latest = nullptr;
    for (const Entry &entry : m_reservations) {
        if (entry.peer == peer && entry.expires > now &&
            (!latest || entry.expires >= latest->expires))
            latest = &entry;
    }
    if (!latest)
        return std::nullopt;
    return latest->connection;
}

bool ReservationStore::holdsConnection(const PeerId &peer, const Multiaddr &connection,
                                       qint64 now) const
{
    return std::any_of(m_reservations.begin(), m_reservations.end(), [&](const Entry &entry) {
        return entry.peer == peer && entry.connection == connection && entry.expires > now;
    });
}

void ReservationStore::connectionClosed(const PeerId &peer, const Multiaddr &connection)
{
    m_reservations.erase(std::remove_if(m_reservations.begin(), m_reservations.end(),
                                        [&](const Entry &entry) {
                                            return entry.peer == peer &&
                                                   entry.connection == connection;
                                        }),
                         m_reservations.end());
}

void ReservationStore::expire(qint64 now)
{
    m_reservations.erase(std::remove_if(m_reservations.begin(), m_reservations.end(),
                                        [now](const Entry &entry) { return entry.expires <= now; }),
                         m_reservations.end());
}
