#pragma once

#include <QByteArray>

#include <memory>
#include <optional>

typedef struct evp_pkey_st EVP_PKEY;

// A libp2p identity: an Ed25519 key pair (OpenSSL), encoded as the peer-ids spec's PublicKey
// and PrivateKey protobufs (KeyType Ed25519 = 1).
class IdentityKey
{
public:
    static constexpr int ed25519Type = 1;

    static IdentityKey generate();
    // A PrivateKey protobuf: Data is seed and public key (64 bytes) or the older 96-byte form.
    static std::optional<IdentityKey> fromPrivateKeyProtobuf(const QByteArray &bytes);

    QByteArray privateKeyProtobuf() const;
    QByteArray publicKeyProtobuf() const;
    QByteArray publicKey() const { return m_publicKey; } // the raw 32 bytes
    QByteArray sign(const QByteArray &message) const;

    // Checks an Ed25519 signature against a PublicKey protobuf; other key types are refused.
    static bool verify(const QByteArray &publicKeyProtobuf, const QByteArray &message,
                       const QByteArray &signature);
    // The raw Ed25519 key inside a PublicKey protobuf, if it is one.
    static std::optional<QByteArray> ed25519FromProtobuf(const QByteArray &publicKeyProtobuf);

private:
    struct KeyDeleter
    {
        void operator()(EVP_PKEY *key) const;
    };
    static std::optional<IdentityKey> fromSeed(const QByteArray &seed);

    std::shared_ptr<EVP_PKEY> m_key;
    QByteArray m_seed;
    QByteArray m_publicKey;
};
