#pragma once

#include "libp2p/identitykey.h"
#include "libp2p/peerid.h"

#include <QByteArray>

#include <optional>

// The relay's signed promise of a reservation (circuit-v2.md, "Reservation Vouchers"): a
// Voucher protobuf {relay, peer, expiration} in a signed envelope.
struct ReservationVoucher
{
    static constexpr char domain[] = "libp2p-relay-rsvp";
    // Multicodec 0x0302 as go- and js-libp2p write the envelope's payload type: its two
    // big-endian bytes, not a uvarint.
    static QByteArray payloadType() { return QByteArray("\x03\x02", 2); }

    QByteArray relay; // peer IDs as binary multihashes
    QByteArray peer;
    quint64 expiration = 0; // UNIX seconds (UTC)

    // The canonical form: fields in number order.
    QByteArray encode() const;
    static std::optional<ReservationVoucher> decode(const QByteArray &bytes);

    QByteArray seal(const IdentityKey &relayKey) const;
    // Opens and verifies an envelope; nothing unless it is a voucher signed by its relay.
    static std::optional<ReservationVoucher> open(const QByteArray &envelope);
};
