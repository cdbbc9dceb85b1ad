#include "noisecrypto.h"

#include <QtEndian>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace NoiseCrypto {

namespace {

const unsigned char *bytesOf(const QByteArray &bytes)
{
    return reinterpret_cast<const unsigned char *>(bytes.constData());
}

unsigned char *bytesOf(QByteArray &bytes)
{
    return reinterpret_cast<unsigned char *>(bytes.data());
}

void nonceBytes(quint64 nonce, unsigned char (&iv)[12])
{
    std::fill(std::begin(iv), std::end(iv), 0);
    qToLittleEndian(nonce, iv + 4);
}

} // namespace

KeyPair generateX25519()
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
    KeyPair pair{QByteArray(keyBytes, Qt::Uninitialized), QByteArray(keyBytes, Qt::Uninitialized)};
    size_t privateLength = keyBytes;
    size_t publicLength = keyBytes;
    if (!key || EVP_PKEY_get_raw_private_key(key, bytesOf(pair.privateKey), &privateLength) != 1 ||
        EVP_PKEY_get_raw_public_key(key, bytesOf(pair.publicKey), &publicLength) != 1)
        qFatal("libp2p: X25519 key generation failed");
    EVP_PKEY_free(key);
    return pair;
}

std::optional<QByteArray> x25519(const QByteArray &privateKey, const QByteArray &publicKey)
{
    if (privateKey.size() != keyBytes || publicKey.size() != keyBytes)
        return std::nullopt;
    EVP_PKEY *own =
        EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, bytesOf(privateKey), keyBytes);
    EVP_PKEY *peer =
        EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, bytesOf(publicKey), keyBytes);
    EVP_PKEY_CTX *context = own ? EVP_PKEY_CTX_new(own, nullptr) : nullptr;
    QByteArray secret(keyBytes, Qt::Uninitialized);
    size_t length = keyBytes;
    // OpenSSL refuses a peer key that yields the all-zero secret (a small-order point).
    const bool ok = peer && context && EVP_PKEY_derive_init(context) == 1 &&
                    EVP_PKEY_derive_set_peer(context, peer) == 1 &&
                    EVP_PKEY_derive(context, bytesOf(secret), &length) == 1 && length == keyBytes;
    EVP_PKEY_CTX_free(context);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(own);
    if (!ok || secret == QByteArray(keyBytes, '\0'))
        return std::nullopt;
    return secret;
}

QByteArray sha256(const QByteArray &data)
{
    QByteArray digest(hashBytes, Qt::Uninitialized);
    unsigned int length = hashBytes;
    EVP_Digest(data.constData(), size_t(data.size()), bytesOf(digest), &length, EVP_sha256(),
               nullptr);
    return digest;
}

QByteArray hmacSha256(const QByteArray &key, const QByteArray &data)
{
    QByteArray mac(hashBytes, Qt::Uninitialized);
    unsigned int length = hashBytes;
    HMAC(EVP_sha256(), key.constData(), int(key.size()), bytesOf(data), size_t(data.size()),
         bytesOf(mac), &length);
    return mac;
}

QByteArray encrypt(const QByteArray &key, quint64 nonce, const QByteArray &ad,
                   const QByteArray &plaintext)
{
    unsigned char iv[12];
    nonceBytes(nonce, iv);
    QByteArray out(plaintext.size() + tagBytes, Qt::Uninitialized);
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int length = 0;
    int finalLength = 0;
    const bool ok =
        context &&
        EVP_EncryptInit_ex(context, EVP_chacha20_poly1305(), nullptr, bytesOf(key), iv) == 1 &&
        EVP_EncryptUpdate(context, nullptr, &length, bytesOf(ad), int(ad.size())) == 1 &&
        EVP_EncryptUpdate(context, bytesOf(out), &length, bytesOf(plaintext),
                          int(plaintext.size())) == 1 &&
        EVP_EncryptFinal_ex(context, bytesOf(out) + length, &finalLength) == 1 &&
        EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, tagBytes,
                            bytesOf(out) + plaintext.size()) == 1;
    EVP_CIPHER_CTX_free(context);
    if (!ok)
        qFatal("libp2p: ChaCha20-Poly1305 encryption failed");
    return out;
}

std::optional<QByteArray> decrypt(const QByteArray &key, quint64 nonce, const QByteArray &ad,
                                  const QByteArray &ciphertext)
{
    if (ciphertext.size() < tagBytes)
        return std::nullopt;
    unsigned char iv[12];
    nonceBytes(nonce, iv);
    const qsizetype plainLength = ciphertext.size() - tagBytes;
    QByteArray out(plainLength, Qt::Uninitialized);
    QByteArray tag = ciphertext.right(tagBytes);
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int length = 0;
    int finalLength = 0;
    const bool ok =
        context &&
        EVP_DecryptInit_ex(context, EVP_chacha20_poly1305(), nullptr, bytesOf(key), iv) == 1 &&
        EVP_DecryptUpdate(context, nullptr, &length, bytesOf(ad), int(ad.size())) == 1 &&
        EVP_DecryptUpdate(context, bytesOf(out), &length, bytesOf(ciphertext), int(plainLength)) ==
            1 &&
        EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, tagBytes, bytesOf(tag)) == 1 &&
        EVP_DecryptFinal_ex(context, bytesOf(out) + length, &finalLength) == 1;
    EVP_CIPHER_CTX_free(context);
    if (!ok)
        return std::nullopt;
    return out;
}

} // namespace NoiseCrypto
