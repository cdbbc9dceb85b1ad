#pragma once

#include <QByteArray>

#include <optional>

// The primitives of Noise_XX_25519_ChaChaPoly_SHA256, all from OpenSSL 3.
namespace NoiseCrypto {

constexpr int keyBytes = 32;
constexpr int hashBytes = 32;
constexpr int tagBytes = 16;

struct KeyPair
{
    QByteArray privateKey; // 32 raw bytes
    QByteArray publicKey;  // 32 raw bytes (RFC 7748)
};

KeyPair generateX25519();
// Nothing when the peer's key is malformed or gives the all-zero secret.
std::optional<QByteArray> x25519(const QByteArray &privateKey, const QByteArray &publicKey);
QByteArray sha256(const QByteArray &data);
QByteArray hmacSha256(const QByteArray &key, const QByteArray &data);
// ChaCha20-Poly1305 (RFC 8439) with the Noise nonce: 32 zero bits, then n little-endian.
QByteArray encrypt(const QByteArray &key, quint64 nonce, const QByteArray &ad,
                   const QByteArray &plaintext);
std::optional<QByteArray> decrypt(const QByteArray &key, quint64 nonce, const QByteArray &ad,
                                  const QByteArray &ciphertext);

} // namespace NoiseCrypto
