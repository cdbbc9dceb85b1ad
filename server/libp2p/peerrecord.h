#pragma once

#include "multiaddr.h"
#include "peerid.h"

#include <QByteArray>

#include <optional>
#include <vector>

// A peer record (libp2p RFC 0003): a peer's addresses and a sequence number, the payload of a
// signed envelope with the domain and payload type below.
class PeerRecord
{
public:
    static constexpr char domain[] = "libp2p-peer-record";
    // Multicodec 0x0301 ("libp2p-peer-record") as its two big-endian bytes, as go- and
    // js-libp2p write it.
    static QByteArray payloadType() { return QByteArray("\x03\x01", 2); }

    PeerId peerId;
    quint64 seq = 0;
    std::vector<Multiaddr> addresses;

    QByteArray encode() const;
    // Nothing when malformed, without a valid peer ID, or with an address we cannot parse.
    static std::optional<PeerRecord> decode(const QByteArray &bytes);
};
