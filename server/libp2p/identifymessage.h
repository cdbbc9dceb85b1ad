#pragma once

#include <QByteArray>
#include <QList>

#include <optional>

// The identify protocol's message (/ipfs/id/1.0.0): who we are, where we listen, what we speak
// and where the peer appears to come from.
struct IdentifyMessage
{
    static constexpr char protocolId[] = "/ipfs/id/1.0.0";
    static constexpr int maxBytes = 8192; // as js-libp2p bounds it

    QByteArray protocolVersion;    // "ipfs/0.1.0"
    QByteArray agentVersion;       // "goop-rendezvous/0.1.0"
    QByteArray publicKey;          // a PublicKey protobuf
    QList<QByteArray> listenAddrs; // binary multiaddrs
    QByteArray observedAddr;       // binary multiaddr
    QList<QByteArray> protocols;

    QByteArray encode() const;
    static std::optional<IdentifyMessage> decode(const QByteArray &bytes);
};
