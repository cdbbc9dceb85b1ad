#include "clientaddress.h"

#include "headerlines.h"

#include <QtEndian>

namespace {

// One hop as a proxy writes it: an address, maybe quoted, bracketed and with a port
// ("192.0.2.7", "192.0.2.7:4711", "\"[2001:db8::1]:4711\"", "2001:db8::1").
std::optional<QHostAddress> parseHop(QByteArrayView text)
{
    text = text.trimmed();
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
        text = text.sliced(1, text.size() - 2);
    if (text.startsWith('[')) {
        const qsizetype close = text.indexOf(']');
        if (close < 0)
            return std::nullopt;
        text = text.sliced(1, close - 1);
    } else if (text.count(':') == 1) {
        text = text.first(text.indexOf(':')); // IPv4 with a port
    }
    QHostAddress address;
    if (text.isEmpty() || !address.setAddress(QString::fromLatin1(text)) ||
        address.protocol() == QAbstractSocket::UnknownNetworkLayerProtocol ||
        !address.scopeId().isEmpty())
        return std::nullopt;
    return plainAddress(address);
}

// The `for=` values of a Forwarded header (RFC 7239), in order; an element without one counts
// as a hop that cannot be named.
QList<QByteArray> forwardedHops(QByteArrayView value)
{
    QList<QByteArray> hops;
    QByteArray hop;
    bool inQuotes = false;
    qsizetype pairStart = 0;
    const auto endPair = [&](qsizetype end) {
        const QByteArrayView pair = value.sliced(pairStart, end - pairStart).trimmed();
        if (pair.size() > 4 && pair.first(4).compare("for=", Qt::CaseInsensitive) == 0)
            hop = pair.sliced(4).toByteArray();
        pairStart = end + 1;
    };
    for (qsizetype i = 0; i <= value.size(); ++i) {
        const char c = i < value.size() ? value[i] : ',';
        if (c == '"')
            inQuotes = !inQuotes;
        if (inQuotes && i < value.size())
            continue;
        if (c == ';') {
            endPair(i);
        } else if (c == ',') {
            endPair(i);
            hops.append(hop.isEmpty() ? QByteArray("unknown") : hop);
            hop.clear();
        }
    }
    return hops;
}

} // namespace

QHostAddress plainAddress(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4) : address;
}

QByteArray limitKey(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (isV4) {
        const quint32 bigEndian = qToBigEndian(v4);
        return QByteArray(reinterpret_cast<const char *>(&bigEndian), 4);
    }
    const Q_IPV6ADDR v6 = address.toIPv6Address();
    return QByteArray(reinterpret_cast<const char *>(v6.c), 8);
}

std::optional<TrustedProxies> TrustedProxies::parse(const QStringList &subnets, QString *error)
{
    TrustedProxies proxies;
    for (const QString &text : subnets) {
        for (const QString &item : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const QString trimmed = item.trimmed();
            const QPair<QHostAddress, int> subnet = QHostAddress::parseSubnet(trimmed);
            if (subnet.first.isNull()) {
                *error = QStringLiteral("invalid trusted proxy \"%1\": expected an address or a "
                                        "subnet such as 10.0.0.0/8")
                             .arg(trimmed);
                return std::nullopt;
            }
            proxies.m_subnets.append(subnet);
        }
    }
    return proxies;
}

bool TrustedProxies::contains(const QHostAddress &address) const
{
    const QHostAddress plain = plainAddress(address);
    for (const auto &subnet : m_subnets)
        if (plain.isInSubnet(subnet))
            return true;
    return false;
}

QHostAddress TrustedProxies::clientOf(const QHostAddress &peer, QByteArrayView headerLines) const
{
    QHostAddress client = plainAddress(peer);
    if (!contains(client))
        return client;
    QByteArray forwardedFor, forwarded, realIp;
    HeaderLines::forEach(headerLines, [&](QByteArrayView name, QByteArrayView value) {
        // Repeated headers are one list, in order (RFC 9110, 5.3).
        const auto append = [&](QByteArray &list) {
            list += (list.isEmpty() ? "" : ",") + value.toByteArray();
        };
        if (name.compare("X-Forwarded-For", Qt::CaseInsensitive) == 0)
            append(forwardedFor);
        else if (name.compare("Forwarded", Qt::CaseInsensitive) == 0)
            append(forwarded);
        else if (name.compare("X-Real-IP", Qt::CaseInsensitive) == 0)
            realIp = value.toByteArray();
    });
    QList<QByteArray> hops;
    if (!forwardedFor.isEmpty())
        hops = forwardedFor.split(',');
    else if (!forwarded.isEmpty())
        hops = forwardedHops(forwarded);
    else if (!realIp.isEmpty())
        hops = {realIp};
    for (auto hop = hops.crbegin(); hop != hops.crend(); ++hop) {
        const std::optional<QHostAddress> address = parseHop(*hop);
        if (!address)
            break;
        client = *address;
        if (!contains(client))
            break;
    }
    return client;
}
