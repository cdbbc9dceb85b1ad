#include "peerid.h"

#include "varint.h"

#include <QCryptographicHash>

#include <cstring>
#include <vector>

namespace {

constexpr quint8 identityHash = 0x00;
constexpr quint8 sha256Hash = 0x12;
constexpr int maxInlinedKeyBytes = 42;
constexpr qsizetype maxPeerIdText = 128; // keeps the quadratic base58 decoding cheap

const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

} // namespace

namespace Base58 {

QByteArray encode(const QByteArray &bytes)
{
    qsizetype zeros = 0;
    while (zeros < bytes.size() && bytes[zeros] == 0)
        ++zeros;
    std::vector<quint8> digits; // little-endian base-58 digits
    for (qsizetype i = zeros; i < bytes.size(); ++i) {
        int carry = quint8(bytes[i]);
        for (quint8 &digit : digits) {
            carry += digit * 256;
            digit = quint8(carry % 58);
            carry /= 58;
        }
        while (carry > 0) {
            digits.push_back(quint8(carry % 58));
            carry /= 58;
        }
    }
    QByteArray text(zeros, '1');
    for (auto it = digits.rbegin(); it != digits.rend(); ++it)
        text.append(alphabet[*it]);
    return text;
}

std::optional<QByteArray> decode(const QByteArray &text)
{
    qsizetype ones = 0;
    while (ones < text.size() && text[ones] == '1')
        ++ones;
    std::vector<quint8> bytes; // little-endian base-256 digits
    for (qsizetype i = ones; i < text.size(); ++i) {
        const char *position = std::strchr(alphabet, text[i]);
        if (!position || text[i] == '\0')
            return std::nullopt;
        int carry = int(position - alphabet);
        for (quint8 &byte : bytes) {
            carry += byte * 58;
            byte = quint8(carry & 0xff);
            carry >>= 8;
        }
        while (carry > 0) {
            bytes.push_back(quint8(carry & 0xff));
            carry >>= 8;
        }
    }
    QByteArray decoded(ones, '\0');
    for (auto it = bytes.rbegin(); it != bytes.rend(); ++it)
        decoded.append(char(*it));
    return decoded;
}

} // namespace Base58

PeerId PeerId::fromPublicKey(const QByteArray &publicKeyProtobuf)
{
    PeerId id;
    if (publicKeyProtobuf.size() <= maxInlinedKeyBytes) {
        id.m_multihash.append(char(identityHash));
        Varint::append(id.m_multihash, quint64(publicKeyProtobuf.size()));
        id.m_multihash.append(publicKeyProtobuf);
    } else {
        id.m_multihash.append(char(sha256Hash));
        id.m_multihash.append(char(32));
        id.m_multihash.append(
            QCryptographicHash::hash(publicKeyProtobuf, QCryptographicHash::Sha256));
    }
    return id;
}

std::optional<PeerId> PeerId::fromBytes(const QByteArray &multihash)
{
    const Varint::Decoded code = Varint::decode(multihash);
    if (code.status != Varint::Status::Ok || !code.minimal)
        return std::nullopt;
    const Varint::Decoded length = Varint::decode(multihash, code.length);
    if (length.status != Varint::Status::Ok || !length.minimal ||
        length.value != quint64(multihash.size() - code.length - length.length))
        return std::nullopt;
    if (code.value == identityHash) {
        if (length.value > maxInlinedKeyBytes)
            return std::nullopt;
    } else if (code.value != sha256Hash || length.value != 32) {
        return std::nullopt;
    }
    PeerId id;
    id.m_multihash = multihash;
    return id;
}

std::optional<PeerId> PeerId::fromText(const QString &text)
{
    if (text.isEmpty() || text.size() > maxPeerIdText ||
        !(text.startsWith(QLatin1Char('1')) || text.startsWith(QLatin1String("Qm"))))
        return std::nullopt;
    const auto bytes = Base58::decode(text.toLatin1());
    if (!bytes)
        return std::nullopt;
    return fromBytes(*bytes);
}

QString PeerId::toText() const
{
    return QString::fromLatin1(Base58::encode(m_multihash));
}

std::optional<QByteArray> PeerId::inlinedPublicKey() const
{
    if (m_multihash.isEmpty() || m_multihash[0] != char(identityHash))
        return std::nullopt;
    const Varint::Decoded length = Varint::decode(m_multihash, 1);
    return m_multihash.mid(1 + length.length);
}
