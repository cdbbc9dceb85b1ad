#pragma once

#include "httpclient.h"

#include <QByteArray>
#include <QString>

// Small helpers the monitor tests share: publishing presence messages to the real server.
namespace MonitorTest {

// A libp2p-looking peer ID, distinct per `n`.
inline QString peerId(int n)
{
    return QStringLiteral("12D3KooWTest%1").arg(n, 6, 10, QLatin1Char('0'));
}

// POSTs one message; true on 204.
inline bool publish(HttpClient &http, const char *type, const QString &peerId,
                    const QString &content = {}, const QByteArray &extraMembers = {})
{
    QByteArray body =
        "{\"type\":\"" + QByteArray(type) + "\",\"peerId\":\"" + peerId.toUtf8() + "\"";
    if (!content.isEmpty())
        body += ",\"content\":\"" + content.toUtf8() + "\"";
    if (!extraMembers.isEmpty())
        body += ',' + extraMembers;
    body += '}';
    return http.post("/publish", body).status == 204;
}

} // namespace MonitorTest
