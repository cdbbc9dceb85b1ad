#include "websockethandshake.h"

#include "headerlines.h"

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
    if (!hasToken(HeaderLines::value(headerLines, "Upgrade"), "websocket") ||
        !hasToken(HeaderLines::value(headerLines, "Connection"), "upgrade"))
        return Refusal{400, "bad request: not a WebSocket upgrade"};
    if (HeaderLines::value(headerLines, "Sec-WebSocket-Version") != "13")
        return Refusal{400, "bad request: unsupported WebSocket version"};
    QByteArray key = HeaderLines::value(headerLines, "Sec-WebSocket-Key");
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
