#pragma once

#include "addressplaces.h"
#include "clientaddress.h"
#include "operatordoor.h"
#include "tokenbuckets.h"

#include <QByteArray>
#include <QHostAddress>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <variant>

// Who may do what, per client: the client address behind a trusted proxy, the per-client limits
// (publishes per peer and per address, streams per address, new connections per address) and
// the operators' door. Both of the HTTP server's doors and the WebSocket frames ask here, so a
// limit holds however a request comes in. Every refusal is counted and logged, at most once per
// limit every 10 s (a flood must not flood the log). Thread-safe.
class AccessControl
{
public:
    struct Options
    {
        TrustedProxies proxies;
        TokenBuckets::Rate peerPublishes{2, 20};        // per peer ID: 10x a 5 s heartbeat
        TokenBuckets::Rate addressPublishes{200, 2000}; // per address: 1,000 peers behind a NAT
        TokenBuckets::Rate connections{100, 1000};      // new connections per address
        int maxStreamsPerAddress = 1000;                // /events and /ws together; 0: no cap
        int maxBuckets = 65536;                         // per limit
        std::optional<OperatorDoor> door;
        bool privatePages = false; // the door also guards /peers.json and the dashboard
    };

    // Which routes are behind the door: every route says, so a new one cannot forget.
    enum class Door
    {
        Public,   // the protocol's own endpoints
        Operator, // /logs.json, /metrics: behind the door whenever there is one
        Private   // /peers.json and the dashboard: behind it with --private
    };

    enum class Limit
    {
        PeerPublishes,
        AddressPublishes,
        Streams,
        Connections,
        AuthFailures,
        Count
    };
    static constexpr size_t limitCount = size_t(Limit::Count);
    static const char *limitName(Limit limit); // the metrics label

    struct Refusal
    {
        int status;
        QByteArray reason;
        std::chrono::seconds retryAfter{0}; // 0: no Retry-After
        bool challenge = false;             // WWW-Authenticate
        // The answer's extra header lines: Retry-After, WWW-Authenticate.
        QByteArray headerLines() const;
    };

    explicit AccessControl(Options options);

    // The address a request counts for, and whether `peer`'s headers are read for it.
    bool readsHeadersOf(const QHostAddress &peer) const;
    QHostAddress clientOf(const QHostAddress &peer, QByteArrayView headerLines) const;

    // The door for a route, given the request's Authorization value.
    std::optional<Refusal> pass(Door door, QByteArrayView authorization,
                                const QHostAddress &client);
    // A new connection straight from `peer` (a trusted proxy's are not counted: its clients
    // are, as they open streams).
    std::optional<Refusal> admitConnection(const QHostAddress &peer);
    // A publish from `client`, before its body is read, and then of `peerId`.
    std::optional<Refusal> admitPublishFrom(const QHostAddress &client);
    std::optional<Refusal> admitPublishOf(const QHostAddress &client, QByteArrayView peerId);
    // A place for a stream (/events or /ws) from `client`, held until the stream ends.
    // Through a proxy, opening one counts as a new connection of `client`. A peer's redial that
    // replaces its own WebSocket from the same client always gets one: the old one is leaving.
    enum class Stream
    {
        EventStream,
        WebSocket,
        WebSocketRedial
    };
    std::variant<AddressPlaces::Place, Refusal> admitStream(const QHostAddress &client,
                                                            bool viaProxy, Stream stream);

    bool hasDoor() const { return m_options.door.has_value(); }
    bool guards(Door door) const;

    // Drops buckets that are full again; called now and then.
    void sweep();

    struct Counts
    {
        std::array<quint64, limitCount> refused{};
        std::array<qint64, limitCount> held{}; // buckets, or addresses holding stream places
    };
    Counts counts() const;

private:
    struct Log
    {
        std::mutex mutex;
        quint64 sinceLast = 0;
        std::chrono::steady_clock::time_point last{};
    };
    // Counts and logs the refusal, and answers it with `reason`.
    Refusal refuse(Limit limit, std::chrono::milliseconds wait, const QHostAddress &client,
                   QByteArrayView detail, const QByteArray &reason);
    void count(Limit limit, const QHostAddress &client, QByteArrayView detail);

    const Options m_options;
    TokenBuckets m_peerPublishes;
    TokenBuckets m_addressPublishes;
    TokenBuckets m_connections;
    TokenBuckets m_authFailures;
    std::shared_ptr<AddressPlaces> m_streams;
    std::array<std::atomic<quint64>, limitCount> m_refused{};
    std::array<Log, limitCount> m_logs;
};
