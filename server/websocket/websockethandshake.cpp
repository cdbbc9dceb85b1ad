#include "websockethandshake.h"

#include <QCryptographicHash>
#include <QList>
#include <QUrlQuery>

namespace {

bool hasToken(QByteArrayView list, QByteArrayView token)
{
    for (const QByteArray &item : list.toByteArray().split(','))
        if (item.trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

// The value of the first header named `name`, trimmed; null when there is none.
QByteArray headerValue(QByteArrayView headerLines, QByteArrayView name)
{
    for (qsizetype start = 0; start < headerLines.size();) {
        qsizetype end = headerLines.indexOf('\n', start);
        if (end < 0)
            end = headerLines.size();
        const QByteArrayView line = headerLines.sliced(start, end - start);
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.first(colon).compare(name, Qt::CaseInsensitive) == 0)
            return line.sliced(colon + 1).trimmed().toByteArray();
        start = end + 1;
    }
    return {};
}

} // namespace

namespace WebSocketHandshake {

Query readQuery(QByteArrayView target)
{
    const qsizetype question = target.indexOf('?');
    const QUrlQuery query(question < 0 ? QString()
                                       : QString::fromUtf8(target.sliced(question + 1)));
    Query result;
    result.probe = query.queryItemValue(QStringLiteral("probe")) == QLatin1String("1");
    result.peerId = query.queryItemValue(QStringLiteral("peer_id"), QUrl::FullyDecoded).toUtf8();
    return result;
}

std::variant<QByteArray, Refusal> validate(QByteArrayView method, QByteArrayView headerLines)
{
    if (method != "GET")
        return Refusal{405, "method not allowed"};
    if (!hasToken(headerValue(headerLines, "Upgrade"), "websocket") ||
        !hasToken(headerValue(headerLines, "Connection"), "upgrade"))
        return Refusal{400, "bad request: not a WebSocket upgrade"};
    if (headerValue(headerLines, "Sec-WebSocket-Version") != "13")
        return Refusal{400, "bad request: unsupported WebSocket version"};
    QByteArray key = headerValue(headerLines, "Sec-WebSocket-Key");
    if (QByteArray::fromBase64(key, QByteArray::AbortOnBase64DecodingErrors).size() != 16)
        return Refusal{400, "bad request: bad Sec-WebSocket-Key"};
    return key;
}

QByteArray acceptKey(QByteArrayView key)
{
    static const QByteArray guid = QByteArrayLiteral("258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    return QCryptographicHash::hash(key.toByteArray() + guid, QCryptographicHash::Sha1).toBase64();
}

QByteArray switchingProtocols(QByteArrayView key)
{
    return "HTTP/1.1 101 Switching Protocols\r\n"
           "Upgrade: websocket\r\n"
           "Connection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " +
           acceptKey(key) + "\r\n\r\n";
}

} // namespace WebSocketHandshake
