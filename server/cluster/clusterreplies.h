#pragma once

#include "presenceservice.h"

#include <QByteArray>
#include <QList>
#include <QSet>
#include <QString>

#include <optional>

struct redisReply;

// What the backplane reads from Redis, decoded from hiredis's reply trees into plain values:
// the parsing lives here, apart from what the backplane does with it, so that it is tested and
// fuzzed on its own (tests/fuzz/fuzz_redisreply). Replies of any shape are safe: a malformed
// part is skipped or refused, never read past.
namespace ClusterReplies {

// One entry of the cluster's stream: a publish (`json`, `lastSeen`), an expiry (`expiredPeer`),
// a punch hint (`hintTarget`, `json`), a WebSocket change (`webSocketPeer`, `connected`) or a
// rendezvous registration (`registrationKey`, `registrationValue`) or removal
// (`unregistrationKey`).
struct StreamEntry
{
    QByteArray id;
    QByteArray instance, lastSeen, json, expiredPeer, ts, hintTarget, webSocketPeer, connected;
    QByteArray registrationKey, registrationValue, unregistrationKey;
};

// XREAD's answer: [[key, [[id, [field, value, …]], …]]], or nil when its BLOCK ran out.
QList<StreamEntry> streamEntries(const redisReply *reply);

// The snapshot script's answer: [stream position, epoch, {peerId, "<last_seen µs> <JSON>", …},
// {departed peerId, last_seen µs, …}, {peerId on a WebSocket, instance, …}, {rendezvous key,
// value, …}].
struct Snapshot
{
    QByteArray position;
    QByteArray epoch;
    QList<PresenceService::Row> rows; // the peers, then an `offline` row per departure
    qsizetype peerCount = 0;          // of `rows`, the peers
    qsizetype malformedRows = 0;      // skipped
    QSet<QByteArray> onWebSockets;
    QList<std::pair<QByteArray, QByteArray>> rendezvousRegistrations; // key, value
};
// nullopt with `error` for an answer of another shape (or Redis's error text).
std::optional<Snapshot> snapshot(const redisReply *reply, QString *error);

// The text of a string, status or error reply; empty for any other.
QByteArray text(const redisReply *reply);
bool isText(const redisReply *reply);

} // namespace ClusterReplies
