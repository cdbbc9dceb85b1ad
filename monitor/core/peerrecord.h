#pragma once

#include <QJsonObject>
#include <QString>

#include <optional>

struct PresenceMessage;

// One peer as the monitor knows it, from a /peers.json row or a live event. `fields` keeps
// every member as received, extra fields of newer peers included, for the details pane.
struct PeerRecord
{
    QString server; // the base URL of the server it came from
    QString peerId;
    QString label; // the `content` field
    QString type;  // online, update or offline
    qint64 ts = 0;
    qint64 lastSeen = 0;   // ms: the server's stamp for snapshot rows, the arrival time for events
    bool verified = false; // the server's word
    // On a WebSocket to that server: only /peers.json rows say it; an event leaves it unknown
    // (the row it updates keeps what it had).
    std::optional<bool> webSocket;
    QJsonObject fields;

    // nullopt when the row has no usable peer_id.
    static std::optional<PeerRecord> fromSnapshotRow(const QJsonObject &row, const QString &server);
    static PeerRecord fromMessage(const PresenceMessage &message, const QString &server,
                                  qint64 receivedMs);
};
