#pragma once

#include <QByteArray>
#include <QByteArrayList>

// The Lua scripts that keep the cluster's state in Redis. Each runs atomically, so that the
// state (a hash of rows, a sorted set of last_seen) and the event stream never disagree, and
// two instances can never both expire the same peer.
//
// Keys (one hash tag, so that a Redis Cluster keeps them in one slot):
//   {goop}:peers   hash: peerId -> "<last_seen µs> <event JSON>"
//   {goop}:seen    sorted set: peerId scored by last_seen µs (expiry order)
//   {goop}:events  stream: publishes {i: instance, s: last_seen µs, m: JSON},
//                  expiries {i: instance, e: peerId, t: ts ms, s: the last_seen it ends} and
//                  punch hints {i: instance, h: target peerId, m: JSON} (never stored) and
//                  WebSocket changes {i: instance, w: peerId, c: 1 or 0} and rendezvous
//                  registrations {i: instance, r: key, v: value} and removals {i, u: key}
//   {goop}:ws      hash: peerId -> the instance holding its WebSocket
//   {goop}:gone    sorted set: peers that left (offline or expired) scored by their last
//                  last_seen µs, kept for two silence limits, so that an instance sending its
//                  rows again after an outage cannot bring back a peer that left meanwhile
//   {goop}:epoch   string: a random name for this incarnation of the state
//   {goop}:rendezvous         hash: the libp2p rendezvous point's registrations,
//                             SharedRegistration key -> "<expires Unix ms> <seq> <envelope>"
//   {goop}:rendezvous-expiry  sorted set: those keys scored by their expiry (for pruning)
class BackplaneScripts
{
public:
    struct Script
    {
        QByteArray source;
        QByteArray sha1; // for EVALSHA
    };

    // KEYS peers seen events gone; ARGV instance type peerId lastSeenUs json maxlen
    // goneCutoffUs. Stores (or for `offline` removes) the row and appends the event, unless
    // something newer for the peer is there already (the same rule as
    // PresenceRegistry::isNews): then it does nothing and returns nil. Last-seen wins, so that
    // the order in which instances' writes reach Redis does not matter. An `offline` also
    // forgets the departures before goneCutoffUs. Returns the entry ID.
    static const Script &publish();

    // KEYS peers seen events gone; ARGV cutoffUs instance tsMs maxlen limit goneCutoffUs.
    // Removes up to `limit` peers last seen at or before cutoffUs, oldest first, appending one
    // expiry entry each, and forgets the departures before goneCutoffUs. Returns how many.
    static const Script &expire();

    // KEYS ws events; ARGV instance peerId connected(1|0) maxlen. Records that `instance` holds
    // (1) or no longer holds (0) the peer's WebSocket and appends the change, except a 0 from
    // an instance that no longer holds it (the peer redialled elsewhere): then nil.
    static const Script &webSocket();

    // KEYS rendezvous rendezvous-expiry events; ARGV instance key value nowMs maxlen. Stores a
    // rendezvous registration and appends it, unless it is over or Redis holds a newer record
    // (a higher seq) for the key: then nil. Prunes a few expired ones on the way.
    static const Script &registerRendezvous();

    // KEYS rendezvous rendezvous-expiry events; ARGV instance key maxlen. Removes a rendezvous
    // registration and appends the removal.
    static const Script &unregisterRendezvous();

    // KEYS peers events epoch gone ws rendezvous rendezvous-expiry; ARGV newEpoch nowMs.
    // Returns {last stream ID or "0-0", epoch, {peerId, value, …}, {departed peerId,
    // last_seen µs, …}, {peerId on a WebSocket, instance, …}, {rendezvous key, value, …}
    // (the live ones; the expired are pruned)}: reading the stream after that ID misses nothing
    // and repeats nothing.
    // The epoch names the state's lifetime: it is set (to newEpoch) when there is none, so a
    // different epoch than last time means that Redis lost the state in between.
    static const Script &snapshot();

    static QByteArray peersKey() { return QByteArrayLiteral("{goop}:peers"); }
    static QByteArray seenKey() { return QByteArrayLiteral("{goop}:seen"); }
    static QByteArray eventsKey() { return QByteArrayLiteral("{goop}:events"); }
    static QByteArray goneKey() { return QByteArrayLiteral("{goop}:gone"); }
    static QByteArray epochKey() { return QByteArrayLiteral("{goop}:epoch"); }
    static QByteArray wsKey() { return QByteArrayLiteral("{goop}:ws"); }
    static QByteArray rendezvousKey() { return QByteArrayLiteral("{goop}:rendezvous"); }
    static QByteArray rendezvousExpiryKey()
    {
        return QByteArrayLiteral("{goop}:rendezvous-expiry");
    }
};
