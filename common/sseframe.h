#pragma once

#include <QByteArray>
#include <QByteArrayView>

// Server-Sent Events framing as the Go server writes it (PROTOCOL.md, "GET /events framing").
namespace SseFrame {

// `data: <json>\n\n`. The JSON must be one line: clients parse each data: line on its own.
QByteArray data(QByteArrayView jsonLine);

// `: <text>\n\n`, a comment that clients skip and proxies flush.
QByteArray comment(QByteArrayView text);

inline const QByteArray hello = QByteArrayLiteral(": ok\n\n");
inline const QByteArray ping = QByteArrayLiteral(": ping\n\n");

} // namespace SseFrame
