#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <variant>

// The opening handshake of GET /ws (RFC 6455, 4.2; PROTOCOL.md, "GET /ws"). The checks run in
// the current server's order: the query (probe, peer_id), then what the server knows of the
// peer (the caller's), then whether the request is a valid upgrade at all.
namespace WebSocketHandshake {

// What the request's query asks for.
struct Query
{
    bool probe = false; // ?probe=1: upgrade, then close at once
    QByteArray peerId;  // peer_id, decoded; empty when missing
};
Query readQuery(QByteArrayView target);

// A refusal of an invalid upgrade: the status and its one-line reason; the answer carries
// `Sec-WebSocket-Version: 13`.
struct Refusal
{
    int status;
    QByteArray reason;
};

// The request's Sec-WebSocket-Key, if it is a valid RFC 6455 upgrade. `headerLines` is the
// head after its request line ("Name: value" lines, CRLF or LF).
std::variant<QByteArray, Refusal> validate(QByteArrayView method, QByteArrayView headerLines);

// The 101 answer that completes the handshake for `key`.
QByteArray switchingProtocols(QByteArrayView key);

// Sec-WebSocket-Accept for `key`.
QByteArray acceptKey(QByteArrayView key);

} // namespace WebSocketHandshake
