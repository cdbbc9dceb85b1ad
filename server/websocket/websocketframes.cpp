#include "websocketframes.h"

#include <QtEndian>

namespace {

enum Opcode : quint8
{
    Continuation = 0x0,
    TextFrame = 0x1,
    BinaryFrame = 0x2,
    CloseFrame = 0x8,
    PingFrame = 0x9,
    PongFrame = 0xA
};

constexpr quint8 finBit = 0x80;
constexpr quint8 maskBit = 0x80;
constexpr qsizetype maxControlPayload = 125;

QByteArray frame(quint8 opcode, QByteArrayView payload)
{
    QByteArray out;
    const qsizetype size = payload.size();
    out.reserve(size + 10);
    out.append(char(finBit | opcode));
    if (size <= 125) {
        out.append(char(size));
    } else if (size <= 0xFFFF) {
        out.append(char(126));
        const quint16 length = qToBigEndian(quint16(size));
        out.append(reinterpret_cast<const char *>(&length), sizeof length);
    } else {
        out.append(char(127));
        const quint64 length = qToBigEndian(quint64(size));
        out.append(reinterpret_cast<const char *>(&length), sizeof length);
    }
    out.append(payload);
    return out;
}

bool isControl(quint8 opcode)
{
    return opcode & 0x8;
}

// Close codes a client may send (RFC 6455, 7.4.1 and 7.4.2): the defined ones that may appear
// on the wire, and the ranges left to libraries and applications.
bool isValidCloseCode(quint16 code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

} // namespace

namespace WebSocketFrames {

QByteArray text(QByteArrayView payload)
{
    return frame(TextFrame, payload);
}

QByteArray ping()
{
    return frame(PingFrame, {});
}

QByteArray pong(QByteArrayView payload)
{
    return frame(PongFrame, payload);
}

QByteArray close(quint16 code, QByteArrayView reason)
{
    QByteArray payload(2, Qt::Uninitialized);
    qToBigEndian(code, payload.data());
    payload.append(reason.first(qMin<qsizetype>(reason.size(), maxControlPayload - 2)));
    return frame(CloseFrame, payload);
}

} // namespace WebSocketFrames

WebSocketReader::WebSocketReader(qsizetype maxMessageBytes) : m_maxMessageBytes(maxMessageBytes) {}

QList<WebSocketReader::Item> WebSocketReader::read(QByteArrayView bytes)
{
    QList<Item> items;
    if (m_ended)
        return items;
    m_buffer.append(bytes);
    while (takeFrame(items)) {
    }
    return items;
}

void WebSocketReader::fail(QList<Item> &items, quint16 code)
{
    items.append({Item::Kind::Error, {}, code});
    m_ended = true;
    m_buffer.clear();
    m_message.clear();
}

bool WebSocketReader::takeFrame(QList<Item> &items)
{
    if (m_ended || m_buffer.size() < 2)
        return false;
    const auto *bytes = reinterpret_cast<const uchar *>(m_buffer.constData());
    const bool fin = bytes[0] & finBit;
    const quint8 opcode = bytes[0] & 0x0F;
    if (bytes[0] & 0x70) { // RSV1-3: no extension was agreed
        fail(items, WebSocketFrames::ProtocolError);
        return false;
    }
    if (!(bytes[1] & maskBit)) { // a client masks every frame (RFC 6455, 5.1)
        fail(items, WebSocketFrames::ProtocolError);
        return false;
    }
    quint64 length = bytes[1] & 0x7F;
    qsizetype headerSize = 2;
    if (length == 126) {
        headerSize = 4;
        if (m_buffer.size() < headerSize)
            return false;
        length = qFromBigEndian<quint16>(bytes + 2);
    } else if (length == 127) {
        headerSize = 10;
        if (m_buffer.size() < headerSize)
            return false;
        length = qFromBigEndian<quint64>(bytes + 2);
    }
    const bool control = isControl(opcode);
    if ((control && (!fin || length > maxControlPayload)) || (opcode > BinaryFrame && !control) ||
        opcode > PongFrame) {
        fail(items, WebSocketFrames::ProtocolError);
        return false;
    }
    // The cap is checked on the announced length, before a byte of the payload is held.
    if (!control && length > quint64(m_maxMessageBytes - m_message.size())) {
        fail(items, WebSocketFrames::MessageTooBig);
        return false;
    }
    const qsizetype frameSize = headerSize + 4 + qsizetype(length);
    if (m_buffer.size() < frameSize)
        return false;

    const uchar *mask = bytes + headerSize;
    QByteArray payload(m_buffer.constData() + headerSize + 4, qsizetype(length));
    for (qsizetype i = 0; i < payload.size(); ++i)
        payload[i] = char(payload[i] ^ mask[i % 4]);
    m_buffer.remove(0, frameSize);

    switch (opcode) {
    case PingFrame:
        items.append({Item::Kind::Ping, payload});
        return true;
    case PongFrame:
        items.append({Item::Kind::Pong, payload});
        return true;
    case CloseFrame: {
        quint16 code = WebSocketFrames::NormalClosure;
        if (payload.size() == 1) {
            fail(items, WebSocketFrames::ProtocolError);
            return false;
        }
        if (payload.size() >= 2) {
            code = qFromBigEndian<quint16>(payload.constData());
            if (!isValidCloseCode(code) || !QByteArrayView(payload).sliced(2).isValidUtf8()) {
                fail(items, WebSocketFrames::ProtocolError);
                return false;
            }
        }
        items.append({Item::Kind::Close, {}, code});
        m_ended = true;
        m_buffer.clear();
        return false;
    }
    case Continuation:
        if (m_messageOpcode < 0) {
            fail(items, WebSocketFrames::ProtocolError);
            return false;
        }
        break;
    default:                        // a new text or binary message
        if (m_messageOpcode >= 0) { // the one before is not finished
            fail(items, WebSocketFrames::ProtocolError);
            return false;
        }
        m_messageOpcode = opcode;
    }
    m_message.append(payload);
    if (!fin)
        return true;
    const bool isText = m_messageOpcode == TextFrame;
    m_messageOpcode = -1;
    if (isText && !m_message.isValidUtf8()) {
        fail(items, WebSocketFrames::InvalidPayload);
        return false;
    }
    items.append({isText ? Item::Kind::Text : Item::Kind::Binary, std::exchange(m_message, {})});
    return true;
}
