#include "multiaddr.h"

#include "peerid.h"
#include "varint.h"

#include <QRegularExpression>
#include <QtEndian>

namespace {

enum class ValueKind
{
    None,
    Ip4,
    Ip6,
    Port,
    Name,  // a length-prefixed UTF-8 host name
    PeerId // a length-prefixed multihash
};

struct ProtocolInfo
{
    Multiaddr::Code code;
    const char *name;
    ValueKind kind;
};

constexpr ProtocolInfo protocols[] = {
    {Multiaddr::Ip4, "ip4", ValueKind::Ip4},
    {Multiaddr::Tcp, "tcp", ValueKind::Port},
    {Multiaddr::Ip6, "ip6", ValueKind::Ip6},
    {Multiaddr::Dns, "dns", ValueKind::Name},
    {Multiaddr::Dns4, "dns4", ValueKind::Name},
    {Multiaddr::Dns6, "dns6", ValueKind::Name},
    {Multiaddr::Dnsaddr, "dnsaddr", ValueKind::Name},
    {Multiaddr::Udp, "udp", ValueKind::Port},
    {Multiaddr::P2pCircuit, "p2p-circuit", ValueKind::None},
    {Multiaddr::P2p, "p2p", ValueKind::PeerId},
    {Multiaddr::QuicV1, "quic-v1", ValueKind::None},
    {Multiaddr::Ws, "ws", ValueKind::None},
    {Multiaddr::Wss, "wss", ValueKind::None},
};

constexpr int maxNameBytes = 255; // a DNS name
constexpr int maxComponents = 32;

const ProtocolInfo *byCode(quint64 code)
{
    for (const ProtocolInfo &info : protocols)
        if (info.code == code)
            return &info;
    return nullptr;
}

const ProtocolInfo *byName(const QString &name)
{
    for (const ProtocolInfo &info : protocols)
        if (name == QLatin1String(info.name))
            return &info;
    if (name == QLatin1String("ipfs")) // the old name of p2p
        return byCode(Multiaddr::P2p);
    return nullptr;
}

bool lengthPrefixed(ValueKind kind)
{
    return kind == ValueKind::Name || kind == ValueKind::PeerId;
}

std::optional<QByteArray> valueFromText(ValueKind kind, const QString &text)
{
    switch (kind) {
    case ValueKind::None:
        return QByteArray();
    case ValueKind::Ip4:
    case ValueKind::Ip6: {
        // Only the dotted quad: QHostAddress would also take "1.2.3" and "0x7f.1".
        static const QRegularExpression dottedQuad(
            QStringLiteral("^\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}$"));
        QHostAddress address;
        if (text.contains(QLatin1Char('%')) || !address.setAddress(text) ||
            (kind == ValueKind::Ip4 && !dottedQuad.match(text).hasMatch()))
            return std::nullopt;
        if (kind == ValueKind::Ip4) {
            if (address.protocol() != QAbstractSocket::IPv4Protocol)
                return std::nullopt;
            QByteArray bytes(4, Qt::Uninitialized);
            qToBigEndian(address.toIPv4Address(), bytes.data());
            return bytes;
        }
        if (address.protocol() != QAbstractSocket::IPv6Protocol)
            return std::nullopt;
        const Q_IPV6ADDR ip6 = address.toIPv6Address();
        return QByteArray(reinterpret_cast<const char *>(ip6.c), 16);
    }
    case ValueKind::Port: {
        bool ok = false;
        const uint port = text.toUInt(&ok);
        if (!ok || port > 65535 || text.startsWith(QLatin1Char('+')))
            return std::nullopt;
        QByteArray bytes(2, Qt::Uninitialized);
        qToBigEndian(quint16(port), bytes.data());
        return bytes;
    }
    case ValueKind::Name: {
        const QByteArray name = text.toUtf8();
        if (name.isEmpty() || name.size() > maxNameBytes)
            return std::nullopt;
        return name;
    }
    case ValueKind::PeerId: {
        const auto id = PeerId::fromText(text);
        if (!id)
            return std::nullopt;
        return id->bytes();
    }
    }
    return std::nullopt;
}

std::optional<QString> valueToText(ValueKind kind, const QByteArray &value)
{
    switch (kind) {
    case ValueKind::None:
        return QString();
    case ValueKind::Ip4:
        if (value.size() != 4)
            return std::nullopt;
        return QHostAddress(qFromBigEndian<quint32>(value.constData())).toString();
    case ValueKind::Ip6:
        if (value.size() != 16)
            return std::nullopt;
        return QHostAddress(reinterpret_cast<const quint8 *>(value.constData())).toString();
    case ValueKind::Port:
        if (value.size() != 2)
            return std::nullopt;
        return QString::number(qFromBigEndian<quint16>(value.constData()));
    case ValueKind::Name: {
        const QString name = QString::fromUtf8(value);
        if (value.isEmpty() || value.size() > maxNameBytes || value.contains('/') ||
            name.toUtf8() != value) // not UTF-8
            return std::nullopt;
        return name;
    }
    case ValueKind::PeerId: {
        const auto id = PeerId::fromBytes(value);
        if (!id)
            return std::nullopt;
        return id->toText();
    }
    }
    return std::nullopt;
}

} // namespace

std::optional<Multiaddr> Multiaddr::fromText(const QString &text, QString *error)
{
    const auto fail = [&](const QString &why) {
        if (error)
            *error = QStringLiteral("invalid multiaddress \"%1\": %2").arg(text, why);
        return std::nullopt;
    };
    if (!text.startsWith(QLatin1Char('/')))
        return fail(QStringLiteral("it must start with /"));
    const QStringList parts = text.mid(1).split(QLatin1Char('/'));
    Multiaddr address;
    for (qsizetype i = 0; i < parts.size(); ++i) {
        const ProtocolInfo *info = byName(parts[i]);
        if (!info)
            return fail(QStringLiteral("unknown protocol \"%1\"").arg(parts[i]));
        QString valueText;
        if (info->kind != ValueKind::None) {
            if (++i >= parts.size())
                return fail(QStringLiteral("/%1 needs a value").arg(QLatin1String(info->name)));
            valueText = parts[i];
        }
        const auto value = valueFromText(info->kind, valueText);
        if (!value)
            return fail(
                QStringLiteral("bad /%1 value \"%2\"").arg(QLatin1String(info->name), valueText));
        if (address.m_components.size() >= maxComponents)
            return fail(QStringLiteral("too many components"));
        address.m_components.push_back({info->code, *value});
    }
    return address;
}

std::optional<Multiaddr> Multiaddr::fromBytes(const QByteArray &bytes)
{
    if (bytes.isEmpty()) // as go-multiaddr: an address with no component is none
        return std::nullopt;
    Multiaddr address;
    qsizetype offset = 0;
    while (offset < bytes.size()) {
        const Varint::Decoded code = Varint::decode(bytes, offset);
        if (code.status != Varint::Status::Ok || !code.minimal)
            return std::nullopt;
        offset += code.length;
        const ProtocolInfo *info = byCode(code.value);
        if (!info || address.m_components.size() >= maxComponents)
            return std::nullopt;
        qsizetype size = 0;
        switch (info->kind) {
        case ValueKind::None:
            break;
        case ValueKind::Ip4:
            size = 4;
            break;
        case ValueKind::Ip6:
            size = 16;
            break;
        case ValueKind::Port:
            size = 2;
            break;
        case ValueKind::Name:
        case ValueKind::PeerId: {
            const Varint::Decoded length = Varint::decode(bytes, offset);
            if (length.status != Varint::Status::Ok || !length.minimal ||
                length.value > quint64(bytes.size()))
                return std::nullopt;
            offset += length.length;
            size = qsizetype(length.value);
            break;
        }
        }
        if (size > bytes.size() - offset)
            return std::nullopt;
        const QByteArray value = bytes.mid(offset, size);
        offset += size;
        // Every value must also have a text form, so that what we read we can show.
        if (!valueToText(info->kind, value))
            return std::nullopt;
        address.m_components.push_back({info->code, value});
    }
    return address;
}

Multiaddr Multiaddr::tcp(const QHostAddress &address, quint16 port)
{
    Multiaddr result;
    bool isIp4 = false;
    const quint32 ip4 = address.toIPv4Address(&isIp4); // IPv4-mapped IPv6 counts as IPv4
    if (isIp4) {
        QByteArray bytes(4, Qt::Uninitialized);
        qToBigEndian(ip4, bytes.data());
        result.m_components.push_back({Ip4, bytes});
    } else {
        const Q_IPV6ADDR ip6 = address.toIPv6Address();
        result.m_components.push_back({Ip6, QByteArray(reinterpret_cast<const char *>(ip6.c), 16)});
    }
    QByteArray portBytes(2, Qt::Uninitialized);
    qToBigEndian(port, portBytes.data());
    result.m_components.push_back({Tcp, portBytes});
    return result;
}

QString Multiaddr::toText() const
{
    QString text;
    for (const Component &component : m_components) {
        const ProtocolInfo *info = byCode(component.code);
        text += QLatin1Char('/') + QLatin1String(info->name);
        if (info->kind != ValueKind::None)
            text += QLatin1Char('/') + valueToText(info->kind, component.value).value_or(QString());
    }
    return text;
}

QByteArray Multiaddr::toBytes() const
{
    QByteArray bytes;
    for (const Component &component : m_components) {
        Varint::append(bytes, component.code);
        if (lengthPrefixed(byCode(component.code)->kind))
            Varint::append(bytes, quint64(component.value.size()));
        bytes.append(component.value);
    }
    return bytes;
}

std::optional<std::pair<QHostAddress, quint16>> Multiaddr::tcpEndpoint() const
{
    if (m_components.size() != 2 || m_components[1].code != Tcp ||
        (m_components[0].code != Ip4 && m_components[0].code != Ip6))
        return std::nullopt;
    const QHostAddress host(*valueToText(
        m_components[0].code == Ip4 ? ValueKind::Ip4 : ValueKind::Ip6, m_components[0].value));
    return std::make_pair(host, qFromBigEndian<quint16>(m_components[1].value.constData()));
}
