#include "relayinfo.h"

#include "jsonwriter.h"

#include <QFile>
#include <QHash>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstring>

namespace {

const char base58Alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

std::optional<QByteArray> decodeBase58(QStringView text)
{
    QByteArray bytes; // big-endian, grown as digits come
    for (const QChar c : text) {
        const char *found =
            c.unicode() < 128 ? std::strchr(base58Alphabet, char(c.unicode())) : nullptr;
        if (!found || c.unicode() == 0)
            return std::nullopt;
        int carry = int(found - base58Alphabet);
        for (qsizetype i = bytes.size() - 1; i >= 0; --i) {
            carry += 58 * quint8(bytes[i]);
            bytes[i] = char(carry & 0xFF);
            carry >>= 8;
        }
        while (carry > 0) {
            bytes.prepend(char(carry & 0xFF));
            carry >>= 8;
        }
    }
    for (const QChar c : text) { // leading '1's are leading zero bytes
        if (c != QLatin1Char('1'))
            break;
        bytes.prepend('\0');
    }
    return bytes;
}

// The protocols a relay's address may use, and what value each takes.
enum class Value
{
    None,
    Ip4,
    Ip6,
    Port,
    Name,
    PeerId,
    Any
};

std::optional<Value> protocolValue(QStringView name)
{
    static const QHash<QString, Value> protocols = {
        {QStringLiteral("ip4"), Value::Ip4},           {QStringLiteral("ip6"), Value::Ip6},
        {QStringLiteral("tcp"), Value::Port},          {QStringLiteral("udp"), Value::Port},
        {QStringLiteral("dns"), Value::Name},          {QStringLiteral("dns4"), Value::Name},
        {QStringLiteral("dns6"), Value::Name},         {QStringLiteral("dnsaddr"), Value::Name},
        {QStringLiteral("sni"), Value::Name},          {QStringLiteral("p2p"), Value::PeerId},
        {QStringLiteral("ipfs"), Value::PeerId},       {QStringLiteral("certhash"), Value::Any},
        {QStringLiteral("quic"), Value::None},         {QStringLiteral("quic-v1"), Value::None},
        {QStringLiteral("ws"), Value::None},           {QStringLiteral("wss"), Value::None},
        {QStringLiteral("tls"), Value::None},          {QStringLiteral("noise"), Value::None},
        {QStringLiteral("webtransport"), Value::None}, {QStringLiteral("p2p-circuit"), Value::None},
        {QStringLiteral("http"), Value::None},         {QStringLiteral("https"), Value::None},
    };
    const auto found = protocols.constFind(name.toString());
    if (found == protocols.cend())
        return std::nullopt;
    return found.value();
}

bool valueFits(Value kind, QStringView value)
{
    switch (kind) {
    case Value::Ip4: // four decimal parts, as Go's net.ParseIP wants (not inet_aton's "1.2.3")
        return value.count(QLatin1Char('.')) == 3 &&
               QHostAddress(value.toString()).protocol() == QAbstractSocket::IPv4Protocol;
    case Value::Ip6:
        return QHostAddress(value.toString()).protocol() == QAbstractSocket::IPv6Protocol;
    case Value::Port: {
        bool ok = false;
        const int port = value.toInt(&ok);
        return ok && port >= 0 && port <= 65535 && !value.startsWith(QLatin1Char('+'));
    }
    case Value::Name:
        return !value.isEmpty() && value.size() <= 253;
    case Value::PeerId:
        return Libp2pText::isPeerId(value);
    case Value::Any:
        return !value.isEmpty();
    case Value::None:
        return true;
    }
    return false;
}

} // namespace

namespace Libp2pText {

bool isPeerId(QStringView text)
{
    const auto bytes = decodeBase58(text);
    if (!bytes || bytes->size() < 3)
        return false;
    const quint8 code = quint8(bytes->at(0));
    const quint8 length = quint8(bytes->at(1));
    if (length >= 0x80 || bytes->size() != 2 + length)
        return false; // one-byte varint lengths only: every peer ID fits
    if (code == 0x12)
        return length == 32; // sha2-256 of a key too long to inline
    if (code != 0x00 || length > 128)
        return false;
    // The key itself, inlined: a PublicKey protobuf, {1: key type (0-3), 2: key bytes}.
    const QByteArrayView key = QByteArrayView(*bytes).sliced(2);
    return key.size() >= 4 && key[0] == 0x08 && quint8(key[1]) <= 3 && key[2] == 0x12 &&
           quint8(key[3]) < 0x80 && key.size() == 4 + quint8(key[3]);
}

QString multiaddrProblem(QStringView text)
{
    if (!text.startsWith(QLatin1Char('/')) || text.size() < 2)
        return QStringLiteral("a multiaddress starts with /, e.g. /ip4/203.0.113.7/tcp/4001");
    const QList<QStringView> parts = text.sliced(1).split(QLatin1Char('/'));
    for (qsizetype i = 0; i < parts.size(); ++i) {
        const auto kind = protocolValue(parts[i]);
        if (!kind)
            return QStringLiteral("unknown protocol \"%1\"").arg(parts[i]);
        if (*kind == Value::None)
            continue;
        if (++i >= parts.size() || !valueFits(*kind, parts[i]))
            return QStringLiteral("bad value for /%1").arg(parts[i - 1]);
    }
    return {};
}

} // namespace Libp2pText

std::optional<RelayInfo> RelayInfo::fromFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (!document.isObject()) {
        *error = QStringLiteral("%1 is not a JSON object: %2").arg(path, parseError.errorString());
        return std::nullopt;
    }
    const QJsonObject object = document.object();
    RelayInfo info;
    info.peerId = object.value(QStringLiteral("peer_id")).toString();
    for (const QJsonValue &addr : object.value(QStringLiteral("addrs")).toArray())
        info.addrs.append(addr.toString());
    const std::pair<const char *, int *> hints[] = {
        {"cleanup_delay_sec", &info.cleanupDelaySec},
        {"poll_deadline_sec", &info.pollDeadlineSec},
        {"connect_timeout_sec", &info.connectTimeoutSec},
        {"refresh_interval_sec", &info.refreshIntervalSec},
        {"recovery_grace_sec", &info.recoveryGraceSec},
    };
    for (const auto &[name, target] : hints) {
        const QJsonValue value = object.value(QLatin1String(name));
        if (value.isUndefined())
            continue;
        if (!value.isDouble() || value.toInt(-1) < 0) {
            *error = QStringLiteral("%1: %2 must be a whole number of seconds").arg(path, name);
            return std::nullopt;
        }
        *target = value.toInt();
    }
    return info;
}

QString RelayInfo::problem() const
{
    if (!Libp2pText::isPeerId(peerId))
        return QStringLiteral("relay peer ID \"%1\" is not a libp2p peer ID").arg(peerId);
    if (addrs.isEmpty())
        return QStringLiteral("the relay has no address (--relay-addr)");
    for (const QString &addr : addrs) {
        const QString problem = Libp2pText::multiaddrProblem(addr);
        if (!problem.isEmpty())
            return QStringLiteral("relay address \"%1\": %2").arg(addr, problem);
    }
    return {};
}

QByteArray RelayInfo::json() const
{
    QByteArray out = "{\"peer_id\":";
    JsonWriter::appendString(out, peerId.toUtf8());
    out.append(",\"addrs\":[");
    for (qsizetype i = 0; i < addrs.size(); ++i) {
        if (i > 0)
            out.append(',');
        JsonWriter::appendString(out, addrs[i].toUtf8());
    }
    out.append(']');
    const std::pair<const char *, int> hints[] = {
        {"cleanup_delay_sec", cleanupDelaySec},     {"poll_deadline_sec", pollDeadlineSec},
        {"connect_timeout_sec", connectTimeoutSec}, {"refresh_interval_sec", refreshIntervalSec},
        {"recovery_grace_sec", recoveryGraceSec},
    };
    for (const auto &[name, value] : hints)
        out.append(",\"").append(name).append("\":").append(QByteArray::number(value));
    out.append("}\n");
    return out;
}
