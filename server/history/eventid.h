#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <optional>
#include <tuple>

// Where an event stands in the order subscribers get it, written on its SSE frame as `id:`.
//
// Most events are in an order every instance shares: alone, the server's own ("<start ms>-<n>");
// in a cluster, the Redis stream entry that carried the event ("<ms>-<seq>", the same event on
// every instance). An event only this instance sent (while Redis was away, or the differences a
// snapshot of the cluster made) comes after the shared one before it and is marked with the
// instance that sent it: "<ms>-<seq>-<n>-<instance in hex>"; only that instance can resume from it.
struct EventId
{
    quint64 ms = 0;
    quint64 seq = 0;
    quint64 local = 0;    // 0: in the shared order
    quint32 instance = 0; // of a local one

    bool isLocal() const { return local != 0; }
    QByteArray toText() const;
    // The ID a client sent (Last-Event-ID); nullopt for anything this server never writes.
    static std::optional<EventId> parse(QByteArrayView text);

    // The order of sending; the instance does not take part.
    friend bool operator<(const EventId &a, const EventId &b)
    {
        return std::tie(a.ms, a.seq, a.local) < std::tie(b.ms, b.seq, b.local);
    }
    friend bool operator<=(const EventId &a, const EventId &b) { return !(b < a); }
    friend bool operator==(const EventId &a, const EventId &b)
    {
        return std::tie(a.ms, a.seq, a.local, a.instance) ==
               std::tie(b.ms, b.seq, b.local, b.instance);
    }
};
