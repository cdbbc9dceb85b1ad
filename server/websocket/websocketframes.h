#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

// RFC 6455 framing as this server speaks it: it sends unmasked, unfragmented frames, and reads
// what clients send (masked, possibly fragmented, control frames in between), with no
// extensions and no sub-protocol (PROTOCOL.md, "GET /ws").
namespace WebSocketFrames {

// Close codes (RFC 6455, 7.4.1) this server sends.
enum CloseCode : quint16
{
    NormalClosure = 1000,
    GoingAway = 1001,
    ProtocolError = 1002,
    UnsupportedData = 1003,
    InvalidPayload = 1007,
    MessageTooBig = 1009
};

QByteArray text(QByteArrayView payload);
QByteArray ping();
QByteArray pong(QByteArrayView payload);
// `reason` must not contain "403", "404", "425" or "501": clients match errors by substring.
QByteArray close(quint16 code, QByteArrayView reason = {});

} // namespace WebSocketFrames

// Reads one client's frames from the bytes as they arrive, whatever way they are split.
// A protocol error ends the reading for good: the connection is then closed with its code.
class WebSocketReader
{
public:
    struct Item
    {
        enum class Kind
        {
            Text,   // a whole text message (fragments joined), valid UTF-8
            Binary, // a whole binary message
            Ping,
            Pong,
            Close, // the client closes: `code` is what to echo (1000 when it sent none)
            Error  // a protocol error: close with `code`
        };
        Kind kind;
        QByteArray payload;
        quint16 code = 0;
    };

    // `maxMessageBytes` bounds a message, fragments joined (larger ones are an Error 1009).
    explicit WebSocketReader(qsizetype maxMessageBytes = 64 * 1024);

    // Takes the next bytes and returns what they completed, in order. After a Close or an Error
    // nothing more is read.
    QList<Item> read(QByteArrayView bytes);

    bool ended() const { return m_ended; }
    // Bytes held for a frame or message not yet complete.
    qsizetype buffered() const { return m_buffer.size() + m_message.size(); }

private:
    bool takeFrame(QList<Item> &items); // false when more bytes are needed or reading ended
    void fail(QList<Item> &items, quint16 code);

    const qsizetype m_maxMessageBytes;
    QByteArray m_buffer;  // the unread front of a frame
    QByteArray m_message; // the fragments of a message so far
    int m_messageOpcode = -1;
    bool m_ended = false;
};
