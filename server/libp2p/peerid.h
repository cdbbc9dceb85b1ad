#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

// A peer ID: the multihash of a PublicKey protobuf (identity multihash for keys of at most 42
// bytes, SHA-256 otherwise), shown in base58btc.
class PeerId
{
public:
    static PeerId fromPublicKey(const QByteArray &publicKeyProtobuf);
    // Base58btc text ("12D3KooW…", "Qm…"); other forms are refused.
    static std::optional<PeerId> fromText(const QString &text);
    // The binary multihash, as in a /p2p multiaddr component.
    static std::optional<PeerId> fromBytes(const QByteArray &multihash);

    QByteArray bytes() const { return m_multihash; }
    QString toText() const;
    // The public key when it is inlined (identity multihash), as for Ed25519 keys.
    std::optional<QByteArray> inlinedPublicKey() const;

    bool operator==(const PeerId &other) const { return m_multihash == other.m_multihash; }
    bool operator!=(const PeerId &other) const { return !(*this == other); }

private:
    QByteArray m_multihash;
};

namespace Base58 {
QByteArray encode(const QByteArray &bytes);
std::optional<QByteArray> decode(const QByteArray &text);
} // namespace Base58
