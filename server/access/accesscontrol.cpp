#include "accesscontrol.h"

#include "logcategories.h"
#include "textquote.h"

#include <cmath>

namespace {

// Failed logins per client address: ten, then one a minute.
constexpr TokenBuckets::Rate authFailureRate{1.0 / 60, 10};
constexpr auto logEvery = std::chrono::seconds(10);
// What a client over a limit is told; the first is the current server's (PROTOCOL.md).
const QByteArray rateLimitExceeded = QByteArrayLiteral("rate limit exceeded");
const QByteArray tooManyConnections =
    QByteArrayLiteral("too many new connections from this address");

std::chrono::seconds retryAfter(std::chrono::milliseconds wait)
{
    return std::chrono::seconds(qMax<qint64>(1, (wait.count() + 999) / 1000));
}

} // namespace

QByteArray AccessControl::Refusal::headerLines() const
{
    QByteArray lines;
    if (retryAfter.count() > 0)
        lines += "Retry-After: " + QByteArray::number(qint64(retryAfter.count())) + "\r\n";
    if (challenge)
        lines += QByteArray("WWW-Authenticate: Basic realm=\"") + OperatorDoor::realm + "\"\r\n";
    return lines;
}

const char *AccessControl::limitName(Limit limit)
{
    static const char *const names[limitCount] = {"peer_publish", "address_publish", "streams",
                                                  "connections", "auth_failures"};
    return names[size_t(limit)];
}

AccessControl::AccessControl(Options options)
    : m_options(std::move(options)), m_peerPublishes(m_options.peerPublishes, m_options.maxBuckets),
      m_addressPublishes(m_options.addressPublishes, m_options.maxBuckets),
      m_connections(m_options.connections, m_options.maxBuckets),
      m_authFailures(authFailureRate, m_options.maxBuckets),
      m_streams(AddressPlaces::create(m_options.maxStreamsPerAddress))
{}

bool AccessControl::readsHeadersOf(const QHostAddress &peer) const
{
    return !m_options.proxies.isEmpty() && m_options.proxies.contains(peer);
}

QHostAddress AccessControl::clientOf(const QHostAddress &peer, QByteArrayView headerLines) const
{
    return m_options.proxies.clientOf(peer, headerLines);
}

bool AccessControl::guards(Door door) const
{
    switch (door) {
    case Door::Public:
        return false;
    case Door::Operator:
        return hasDoor();
    case Door::Private:
        return hasDoor() && m_options.privatePages;
    }
    return true;
}

std::optional<AccessControl::Refusal> AccessControl::pass(Door door, QByteArrayView authorization,
                                                          const QHostAddress &client)
{
    if (!guards(door))
        return std::nullopt;
    const QByteArray key = limitKey(client);
    // Locked out: the credentials are not even looked at, so guessing on gets no answer.
    if (const auto wait = m_authFailures.waitFor(key); wait.count() > 0)
        return refuse(Limit::AuthFailures, wait, client, "locked out after failed logins",
                      "too many failed logins: try again later");
    if (m_options.door->admits(authorization))
        return std::nullopt;
    if (!authorization.isEmpty()) {
        m_authFailures.take(key);
        count(Limit::AuthFailures, client, "wrong credentials");
    }
    return Refusal{401, "unauthorized", {}, true};
}

std::optional<AccessControl::Refusal> AccessControl::admitConnection(const QHostAddress &peer)
{
    if (readsHeadersOf(peer))
        return std::nullopt;
    if (const auto wait = m_connections.take(limitKey(peer)); wait.count() > 0)
        return refuse(Limit::Connections, wait, plainAddress(peer), {}, tooManyConnections);
    return std::nullopt;
}

std::optional<AccessControl::Refusal> AccessControl::admitPublishFrom(const QHostAddress &client)
{
    if (const auto wait = m_addressPublishes.take(limitKey(client)); wait.count() > 0)
        return refuse(Limit::AddressPublishes, wait, client, {}, rateLimitExceeded);
    return std::nullopt;
}

std::optional<AccessControl::Refusal> AccessControl::admitPublishOf(const QHostAddress &client,
                                                                    QByteArrayView peerId)
{
    if (const auto wait = m_peerPublishes.take(peerId); wait.count() > 0)
        return refuse(Limit::PeerPublishes, wait, client, "peer " + goQuoted(peerId),
                      rateLimitExceeded);
    return std::nullopt;
}

std::variant<AddressPlaces::Place, AccessControl::Refusal>
AccessControl::admitStream(const QHostAddress &client, bool viaProxy, Stream stream)
{
    const QByteArray key = limitKey(client);
    if (viaProxy) {
        if (const auto wait = m_connections.take(key); wait.count() > 0)
            return refuse(Limit::Connections, wait, client, {}, tooManyConnections);
    }
    if (AddressPlaces::Place place = m_streams->take(key, stream == Stream::WebSocketRedial))
        return place;
    // The current server's answers (PROTOCOL.md), with the cap it applies.
    const QByteArray reason = stream != Stream::EventStream
                                  ? QByteArray("too many WebSocket connections from this IP")
                                  : "too many SSE connections from " + client.toString().toUtf8() +
                                        " (" + QByteArray::number(m_streams->maxPerAddress()) + ")";
    return refuse(Limit::Streams, std::chrono::seconds(5), client, {}, reason);
}

AccessControl::Refusal AccessControl::refuse(Limit limit, std::chrono::milliseconds wait,
                                             const QHostAddress &client, QByteArrayView detail,
                                             const QByteArray &reason)
{
    count(limit, client, detail);
    return Refusal{429, reason, retryAfter(wait)};
}

void AccessControl::count(Limit limit, const QHostAddress &client, QByteArrayView detail)
{
    m_refused[size_t(limit)].fetch_add(1, std::memory_order_relaxed);
    Log &log = m_logs[size_t(limit)];
    std::lock_guard<std::mutex> lock(log.mutex);
    ++log.sinceLast;
    const auto now = std::chrono::steady_clock::now();
    if (now - log.last < logEvery)
        return;
    qCWarning(lcAccess, "limit %s: %llu refused since the last report, the latest from %s%s%.*s",
              limitName(limit), static_cast<unsigned long long>(log.sinceLast),
              qPrintable(client.toString()), detail.isEmpty() ? "" : ", ", int(detail.size()),
              detail.data());
    log.sinceLast = 0;
    log.last = now;
}

void AccessControl::sweep()
{
    for (TokenBuckets *buckets :
         {&m_peerPublishes, &m_addressPublishes, &m_connections, &m_authFailures})
        buckets->sweep();
}

AccessControl::Counts AccessControl::counts() const
{
    Counts counts;
    for (size_t i = 0; i < limitCount; ++i)
        counts.refused[i] = m_refused[i].load(std::memory_order_relaxed);
    counts.held[size_t(Limit::PeerPublishes)] = m_peerPublishes.size();
    counts.held[size_t(Limit::AddressPublishes)] = m_addressPublishes.size();
    counts.held[size_t(Limit::Connections)] = m_connections.size();
    counts.held[size_t(Limit::AuthFailures)] = m_authFailures.size();
    counts.held[size_t(Limit::Streams)] = m_streams->addresses();
    return counts;
}
