#include "identitykey.h"

#include "protobuf.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace {

constexpr int keyBytes = 32;
constexpr int signatureBytes = 64;

// A Type/Data message of the peer-ids spec; nothing when malformed or incomplete.
std::optional<std::pair<quint64, QByteArray>> readKeyMessage(const QByteArray &bytes)
{
    ProtobufReader reader(bytes);
    std::optional<quint64> type;
    std::optional<QByteArray> data;
    while (const auto field = reader.next()) {
        if (field->number == 1 && field->type == ProtobufReader::VarintType)
            type = field->varint;
        else if (field->number == 2 && field->type == ProtobufReader::LengthDelimitedType)
            data = field->bytes;
    }
    if (reader.failed() || !type || !data)
        return std::nullopt;
    return std::make_pair(*type, *data);
}

QByteArray keyMessage(const QByteArray &data)
{
    ProtobufWriter writer;
    writer.addVarint(1, IdentityKey::ed25519Type);
    writer.addBytes(2, data);
    return writer.bytes();
}

} // namespace

void IdentityKey::KeyDeleter::operator()(EVP_PKEY *key) const
{
    EVP_PKEY_free(key);
}

std::optional<IdentityKey> IdentityKey::fromSeed(const QByteArray &seed)
{
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char *>(seed.constData()),
        size_t(seed.size()));
    if (!key)
        return std::nullopt;
    IdentityKey identity;
    identity.m_key.reset(key, KeyDeleter());
    identity.m_seed = seed;
    identity.m_publicKey.resize(keyBytes);
    size_t length = keyBytes;
    if (EVP_PKEY_get_raw_public_key(
            key, reinterpret_cast<unsigned char *>(identity.m_publicKey.data()), &length) != 1 ||
        length != keyBytes)
        return std::nullopt;
    return identity;
}

IdentityKey IdentityKey::generate()
{
    QByteArray seed(keyBytes, Qt::Uninitialized);
    if (RAND_bytes(reinterpret_cast<unsigned char *>(seed.data()), keyBytes) != 1)
        qFatal("libp2p: the random generator failed");
    return *fromSeed(seed);
}

std::optional<IdentityKey> IdentityKey::fromPrivateKeyProtobuf(const QByteArray &bytes)
{
    const auto message = readKeyMessage(bytes);
    if (!message || message->first != ed25519Type)
        return std::nullopt;
    const QByteArray &data = message->second;
    if (data.size() != 2 * keyBytes && data.size() != 3 * keyBytes)
        return std::nullopt;
    if (data.size() == 3 * keyBytes && data.mid(keyBytes, keyBytes) != data.mid(2 * keyBytes))
        return std::nullopt;
    auto identity = fromSeed(data.left(keyBytes));
    // The stored public key must be the one the seed gives, or the file is corrupt.
    if (!identity || identity->m_publicKey != data.mid(keyBytes, keyBytes))
        return std::nullopt;
    return identity;
}

QByteArray IdentityKey::privateKeyProtobuf() const
{
    return keyMessage(m_seed + m_publicKey);
}

QByteArray IdentityKey::publicKeyProtobuf() const
{
    return keyMessage(m_publicKey);
}

QByteArray IdentityKey::sign(const QByteArray &message) const
{
    QByteArray signature(signatureBytes, Qt::Uninitialized);
    size_t length = signatureBytes;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    const bool ok =
        context && EVP_DigestSignInit(context, nullptr, nullptr, nullptr, m_key.get()) == 1 &&
        EVP_DigestSign(context, reinterpret_cast<unsigned char *>(signature.data()), &length,
                       reinterpret_cast<const unsigned char *>(message.constData()),
                       size_t(message.size())) == 1;
    EVP_MD_CTX_free(context);
    if (!ok || length != signatureBytes)
        qFatal("libp2p: Ed25519 signing failed");
    return signature;
}

std::optional<QByteArray> IdentityKey::ed25519FromProtobuf(const QByteArray &publicKeyProtobuf)
{
    const auto message = readKeyMessage(publicKeyProtobuf);
    if (!message || message->first != ed25519Type || message->second.size() != keyBytes)
        return std::nullopt;
    return message->second;
}

bool IdentityKey::verify(const QByteArray &publicKeyProtobuf, const QByteArray &message,
                         const QByteArray &signature)
{
    const auto raw = ed25519FromProtobuf(publicKeyProtobuf);
    if (!raw || signature.size() != signatureBytes)
        return false;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char *>(raw->constData()),
        keyBytes);
    if (!key)
        return false;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    const bool ok =
        context && EVP_DigestVerifyInit(context, nullptr, nullptr, nullptr, key) == 1 &&
        EVP_DigestVerify(context, reinterpret_cast<const unsigned char *>(signature.constData()),
                         signatureBytes,
                         reinterpret_cast<const unsigned char *>(message.constData()),
                         size_t(message.size())) == 1;
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return ok;
}
