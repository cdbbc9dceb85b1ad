#include "clusterreplies.h"

#include <hiredis.h>

namespace ClusterReplies {

QByteArray text(const redisReply *reply)
{
    if (!reply || !reply->str ||
        (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS &&
         reply->type != REDIS_REPLY_ERROR))
        return {};
    return QByteArray(reply->str, static_cast<qsizetype>(reply->len));
}

bool isText(const redisReply *reply)
{
    return reply && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS);
}

namespace {

bool isArray(const redisReply *reply)
{
    return reply && reply->type == REDIS_REPLY_ARRAY;
}

StreamEntry entryFrom(const QByteArray &id, const redisReply *fields)
{
    StreamEntry entry;
    entry.id = id;
    const std::pair<const char *, QByteArray StreamEntry::*> names[] = {
        {"i", &StreamEntry::instance},
        {"s", &StreamEntry::lastSeen},
        {"m", &StreamEntry::json},
        {"e", &StreamEntry::expiredPeer},
        {"t", &StreamEntry::ts},
        {"h", &StreamEntry::hintTarget},
        {"w", &StreamEntry::webSocketPeer},
        {"c", &StreamEntry::connected},
        {"r", &StreamEntry::registrationKey},
        {"v", &StreamEntry::registrationValue},
        {"u", &StreamEntry::unregistrationKey},
    };
    for (size_t f = 0; isArray(fields) && f + 1 < fields->elements; f += 2) {
        const QByteArray name = text(fields->element[f]);
        for (const auto &[key, member] : names) {
            if (name == key)
                entry.*member = text(fields->element[f + 1]);
        }
    }
    return entry;
}

// {peerId, "<last_seen µs> <JSON>", …}
void addPeerRows(const redisReply *pairs, Snapshot &snapshot)
{
    for (size_t i = 0; i + 1 < pairs->elements; i += 2) {
        const QByteArray value = text(pairs->element[i + 1]);
        const qsizetype space = value.indexOf(' ');
        bool ok = false;
        const qint64 lastSeenUs = value.left(space).toLongLong(&ok);
        if (space < 0 || !ok) {
            ++snapshot.malformedRows;
            continue;
        }
        auto parsed = PresenceMessage::parse(QByteArrayView(value).sliced(space + 1),
                                             PresenceMessage::Source::Server);
        if (!std::holds_alternative<PresenceMessage>(parsed)) {
            ++snapshot.malformedRows;
            continue;
        }
        PresenceService::Row row;
        row.message = std::get<PresenceMessage>(std::move(parsed));
        row.lastSeenUs = lastSeenUs;
        snapshot.rows.append(std::move(row));
    }
    snapshot.peerCount = snapshot.rows.size();
}

// {peerId, last_seen µs, …}: the peers that left recently, as `offline` rows.
void addDepartures(const redisReply *pairs, Snapshot &snapshot)
{
    for (size_t i = 0; i + 1 < pairs->elements; i += 2) {
        PresenceService::Row row;
        row.message.type = PresenceMessage::Type::Offline;
        row.message.peerId = text(pairs->element[i]);
        row.lastSeenUs = text(pairs->element[i + 1]).toLongLong();
        snapshot.rows.append(std::move(row));
    }
}

// One stream's entries: [[id, [field, value, …]], …].
QList<StreamEntry> rangeEntries(const redisReply *reply)
{
    QList<StreamEntry> entries;
    for (size_t e = 0; isArray(reply) && e < reply->elements; ++e) {
        const redisReply *entry = reply->element[e];
        if (!isArray(entry) || entry->elements != 2 || !isText(entry->element[0]))
            continue;
        entries.append(entryFrom(text(entry->element[0]), entry->element[1]));
    }
    return entries;
}

} // namespace

QList<StreamEntry> streamEntries(const redisReply *reply)
{
    QList<StreamEntry> entries;
    for (size_t s = 0; isArray(reply) && s < reply->elements; ++s) {
        const redisReply *stream = reply->element[s];
        if (isArray(stream) && stream->elements == 2)
            entries += rangeEntries(stream->element[1]);
    }
    return entries;
}

std::optional<Snapshot> snapshot(const redisReply *reply, QString *error)
{
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
        *error = QStringLiteral("snapshot failed: ") + QString::fromUtf8(text(reply));
        return std::nullopt;
    }
    if (!isArray(reply) || reply->elements != 6 || !isText(reply->element[0]) ||
        !isText(reply->element[1]) || !isArray(reply->element[2]) || !isArray(reply->element[3]) ||
        !isArray(reply->element[4]) || !isArray(reply->element[5])) {
        *error = QStringLiteral("snapshot: unexpected reply");
        return std::nullopt;
    }
    Snapshot snapshot;
    snapshot.position = text(reply->element[0]);
    snapshot.epoch = text(reply->element[1]);
    addPeerRows(reply->element[2], snapshot);
    addDepartures(reply->element[3], snapshot);
    const redisReply *webSockets = reply->element[4];
    for (size_t i = 0; i + 1 < webSockets->elements; i += 2)
        snapshot.onWebSockets.insert(text(webSockets->element[i]));
    const redisReply *registrations = reply->element[5];
    for (size_t i = 0; i + 1 < registrations->elements; i += 2)
        snapshot.rendezvousRegistrations.append(
            {text(registrations->element[i]), text(registrations->element[i + 1])});
    return snapshot;
}

} // namespace ClusterReplies
