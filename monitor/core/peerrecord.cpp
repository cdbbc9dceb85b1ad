#include "peerrecord.h"

#include "presencemessage.h"

#include <QJsonDocument>

std::optional<PeerRecord> PeerRecord::fromSnapshotRow(const QJsonObject &row, const QString &server)
{
    PeerRecord record;
    record.peerId = row.value(QLatin1String("peer_id")).toString();
    if (record.peerId.isEmpty())
        return std::nullopt;
    record.server = server;
    record.label = row.value(QLatin1String("content")).toString();
    record.type = row.value(QLatin1String("type")).toString();
    record.ts = row.value(QLatin1String("ts")).toInteger();
    record.lastSeen = row.value(QLatin1String("last_seen")).toInteger();
    record.verified = row.value(QLatin1String("verified")).toBool();
    record.webSocket = row.value(QLatin1String("ws_connected")).toBool();
    record.fields = row;
    return record;
}

PeerRecord PeerRecord::fromMessage(const PresenceMessage &message, const QString &server,
                                   qint64 receivedMs)
{
    PeerRecord record;
    record.server = server;
    record.peerId = QString::fromUtf8(message.peerId);
    record.label = QString::fromUtf8(message.content);
    record.type = QString::fromLatin1(PresenceMessage::typeName(message.type));
    record.ts = message.ts;
    record.lastSeen = receivedMs;
    record.verified = message.verified;
    // The extra members come as compact JSON text; wrapping them in braces makes an object.
    if (!message.extraMembers.isEmpty())
        record.fields = QJsonDocument::fromJson('{' + message.extraMembers + '}').object();
    record.fields.insert(QLatin1String("type"), record.type);
    record.fields.insert(QLatin1String("peerId"), record.peerId);
    record.fields.insert(QLatin1String("content"), record.label);
    record.fields.insert(QLatin1String("ts"), record.ts);
    if (record.verified)
        record.fields.insert(QLatin1String("verified"), true);
    return record;
}
