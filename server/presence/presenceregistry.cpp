#include "presenceregistry.h"

#include "jsonreader.h"
#include "jsonwriter.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

// One peer, in one block: the fixed fields, then the escaped ID (with its quotes), the
// escaped content (with its quotes) and the extra members, back to back.
struct PresenceRegistry::Peer
{
    Peer *newer = nullptr;
    Peer *older = nullptr;
    qint64 lastSeenUs = 0;
    qint64 seenMonotonicMs = 0;
    qint64 ts = 0;
    // The registry holds a peer while it is stored; a Listing holds it while it is written out.
    // All but `newer`/`older` is set before the peer is stored and never changes after, so
    // holders read it freely.
    mutable std::atomic<quint32> holders{1};
    quint32 extraLength = 0;
    quint16 idLength = 0;
    quint16 contentLength = 0;
    // One byte for these three: the strings start 53 bytes in, and a 52-character peer ID with
    // a short content fits a 128-byte allocation instead of 144.
    quint8 typeCode : 2;
    bool own : 1;
    bool verified : 1;
    char data[1];

    PresenceMessage::Type type() const { return PresenceMessage::Type(typeCode); }

    QByteArrayView id() const { return {data, idLength}; }
    QByteArrayView content() const { return {data + idLength, contentLength}; }
    QByteArrayView extra() const { return {data + idLength + contentLength, extraLength}; }

    static Peer *create(QByteArrayView id, QByteArrayView content, QByteArrayView extra)
    {
        const size_t bytes =
            offsetof(Peer, data) + size_t(id.size() + content.size() + extra.size());
        void *memory = std::malloc(bytes);
        if (!memory)
            throw std::bad_alloc();
        Peer *peer = new (memory) Peer;
        peer->idLength = static_cast<quint16>(id.size());
        peer->contentLength = static_cast<quint16>(content.size());
        peer->extraLength = static_cast<quint32>(extra.size());
        peer->typeCode = 0;
        peer->own = true;
        peer->verified = false;
        char *out = peer->data;
        for (const QByteArrayView part : {id, content, extra}) {
            if (part.isEmpty())
                continue; // an empty view may have no data pointer: memcpy must not see it
            std::memcpy(out, part.data(), size_t(part.size()));
            out += part.size();
        }
        return peer;
    }

    static void release(const Peer *peer)
    {
        if (peer->holders.fetch_sub(1, std::memory_order_acq_rel) != 1)
            return;
        Peer *last = const_cast<Peer *>(peer);
        last->~Peer();
        std::free(last);
    }

    void appendRow(QByteArray &out, bool onWebSocket) const
    {
        out.append("{\"peer_id\":").append(id());
        out.append(",\"type\":\"")
            .append(PresenceMessage::typeName(type()))
            .append("\",\"content\":");
        out.append(content());
        out.append(",\"ts\":");
        JsonWriter::appendInteger(out, ts);
        out.append(",\"last_seen\":");
        JsonWriter::appendInteger(out, lastSeenUs / 1000);
        if (extraLength > 0)
            out.append(',').append(extra());
        out.append(verified ? ",\"verified\":true" : ",\"verified\":false");
        out.append(onWebSocket ? ",\"ws_connected\":true}" : "}"); // omitted when false, as in Go
    }
};

namespace {

// Extra members a peer sent that would collide with the row's own keys stay out of the row
// (they still reach subscribers in the event).
QByteArray rowExtraMembers(const QByteArray &extraMembers)
{
    const auto rowKey = [](QByteArrayView name) {
        return name == "peer_id" || name == "last_seen" || name == "ws_connected";
    };
    if (!extraMembers.contains("\"peer_id\"") && !extraMembers.contains("\"last_seen\"") &&
        !extraMembers.contains("\"ws_connected\""))
        return extraMembers;
    QByteArray kept;
    const QByteArray object = '{' + extraMembers + '}';
    const auto members = JsonReader::readObject(object);
    for (const JsonReader::Member &member : *members) {
        if (rowKey(member.name))
            continue;
        if (!kept.isEmpty())
            kept.append(',');
        JsonWriter::appendString(kept, member.name);
        kept.append(':').append(member.text);
    }
    return kept;
}

// The strings of an `addrs` member among `extraMembers` (keys match as Go matches them).
QList<QByteArray> addressesIn(QByteArrayView extraMembers)
{
    QList<QByteArray> addresses;
    if (!PresenceRegistry::mayHoldAddresses(extraMembers))
        return addresses; // the common case, without parsing
    const QByteArray object = '{' + extraMembers.toByteArray() + '}';
    const auto members = JsonReader::readObject(object);
    for (const JsonReader::Member &member : *members) {
        if (member.name.compare("addrs", Qt::CaseInsensitive) != 0)
            continue;
        addresses.clear(); // the last one wins, as in Go
        for (const QByteArrayView element :
             JsonReader::readArray(member.text).value_or(QList<QByteArrayView>()))
            if (auto address = JsonReader::decodeString(element); address && !address->isEmpty())
                addresses.append(*address);
    }
    return addresses;
}

} // namespace

bool PresenceRegistry::mayHoldAddresses(QByteArrayView extraMembers)
{
    static constexpr QByteArrayView key = "addrs\"";
    return std::search(extraMembers.begin(), extraMembers.end(), key.begin(), key.end(),
                       [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a + 32 : a) == b; }) !=
           extraMembers.end();
}

PresenceRegistry::PresenceRegistry() = default;

PresenceRegistry::~PresenceRegistry()
{
    m_index.forEach([](const Peer *peer) { Peer::release(peer); });
}

PresenceRegistry::Change PresenceRegistry::applyAt(const PresenceMessage &message,
                                                   qint64 lastSeenUs, qint64 monotonicMs,
                                                   Placement placement, bool own)
{
    QByteArray id;
    JsonWriter::appendString(id, message.peerId);
    Peer *existing = m_index.find(id);

    if (message.type == PresenceMessage::Type::Offline) {
        if (!existing) {
            m_departures.insert(id, lastSeenUs);
            return Change::NothingToRemove;
        }
        remove(existing, lastSeenUs);
        return Change::Removed;
    }

    QByteArray content;
    JsonWriter::appendString(content, message.content);
    Peer *peer = Peer::create(id, content, rowExtraMembers(message.extraMembers));
    peer->typeCode = quint8(message.type);
    peer->ts = message.ts;
    peer->lastSeenUs = lastSeenUs;
    peer->seenMonotonicMs = monotonicMs;
    peer->own = own;
    peer->verified = message.verified;
    if (existing)
        remove(existing, -1);
    else
        m_departures.remove(id);
    m_index.insert(peer);
    if (placement == Placement::Newest)
        pushFront(groupFor(message.type), peer);
    else
        insertByLastSeen(groupFor(message.type), peer);
    changed();
    return existing ? Change::Refreshed : Change::Registered;
}

QList<QByteArray> PresenceRegistry::removeSeenBefore(qint64 monotonicCutoffMs, qsizetype most)
{
    QList<QByteArray> removed;
    while (removed.size() < most) {
        Peer *oldest = nullptr;
        for (const Group *group : {&m_online, &m_updated}) {
            if (group->oldest && group->oldest->seenMonotonicMs < monotonicCutoffMs &&
                (!oldest || group->oldest->seenMonotonicMs < oldest->seenMonotonicMs))
                oldest = group->oldest;
        }
        if (!oldest)
            return removed;
        removed.append(*JsonReader::decodeString(oldest->id()));
        remove(oldest, oldest->lastSeenUs);
    }
    return removed;
}

bool PresenceRegistry::isNews(const QByteArray &peerId, qint64 lastSeenUs,
                              PresenceMessage::Type type) const
{
    QByteArray id;
    JsonWriter::appendString(id, peerId);
    const auto departed = m_departures.constFind(id);
    if (departed != m_departures.cend() && departed.value() >= lastSeenUs)
        return false;
    const Peer *peer = m_index.find(id);
    if (!peer)
        return true;
    const qint64 stored = peer->lastSeenUs;
    return type == PresenceMessage::Type::Offline ? lastSeenUs >= stored : lastSeenUs > stored;
}

void PresenceRegistry::forgetDeparturesBefore(qint64 lastSeenUs)
{
    m_departures.removeIf(
        [lastSeenUs](const auto &departure) { return departure.value() < lastSeenUs; });
}

QList<QByteArray> PresenceRegistry::addressesOf(const QByteArray &peerId) const
{
    QByteArray id;
    JsonWriter::appendString(id, peerId);
    const Peer *peer = m_index.find(id);
    return peer ? addressesIn(peer->extra()) : QList<QByteArray>();
}

QList<std::pair<QByteArray, QList<QByteArray>>> PresenceRegistry::peersWithAddresses() const
{
    QList<std::pair<QByteArray, QList<QByteArray>>> peers;
    m_index.forEach([&peers](const Peer *peer) {
        QList<QByteArray> addresses = addressesIn(peer->extra());
        if (!addresses.isEmpty())
            peers.append({*JsonReader::decodeString(peer->id()), std::move(addresses)});
    });
    return peers;
}

std::optional<qint64> PresenceRegistry::lastSeenOf(const QByteArray &peerId) const
{
    QByteArray id;
    JsonWriter::appendString(id, peerId);
    const Peer *peer = m_index.find(id);
    if (!peer)
        return std::nullopt;
    return peer->lastSeenUs;
}

QList<PresenceRegistry::Row> PresenceRegistry::rows() const
{
    QList<Row> rows;
    rows.reserve(m_index.size());
    for (const Group *group : {&m_online, &m_updated}) {
        for (const Peer *peer = group->newest; peer; peer = peer->older) {
            Row row;
            row.message.type = peer->type();
            row.message.peerId = JsonReader::decodeString(peer->id()).value_or(QByteArray());
            row.message.content = JsonReader::decodeString(peer->content()).value_or(QByteArray());
            row.message.ts = peer->ts;
            row.message.extraMembers = peer->extra().toByteArray();
            row.message.verified = peer->verified;
            row.lastSeenUs = peer->lastSeenUs;
            row.own = peer->own;
            rows.append(std::move(row));
        }
    }
    return rows;
}

std::optional<qint64> PresenceRegistry::oldestSeen() const
{
    std::optional<qint64> oldest;
    for (const Group *group : {&m_online, &m_updated}) {
        if (group->oldest && (!oldest || group->oldest->seenMonotonicMs < *oldest))
            oldest = group->oldest->seenMonotonicMs;
    }
    return oldest;
}

void PresenceRegistry::setWebSocketConnected(const QByteArray &peerId, bool connected)
{
    QByteArray id;
    JsonWriter::appendString(id, peerId);
    if (connected == m_onWebSocket.contains(id))
        return;
    if (connected)
        m_onWebSocket.insert(id);
    else
        m_onWebSocket.remove(id);
    changed();
}

bool PresenceRegistry::isOnWebSocket(const QByteArray &peerId) const
{
    QByteArray id;
    JsonWriter::appendString(id, peerId);
    return m_onWebSocket.contains(id);
}

void PresenceRegistry::setWebSocketPeers(const QSet<QByteArray> &peerIds)
{
    QSet<QByteArray> escaped;
    for (const QByteArray &peerId : peerIds) {
        QByteArray id;
        JsonWriter::appendString(id, peerId);
        escaped.insert(id);
    }
    if (escaped == m_onWebSocket)
        return;
    m_onWebSocket = std::move(escaped);
    changed();
}

PresenceRegistry::Listing PresenceRegistry::listing() const
{
    Listing listing;
    listing.m_peers.reserve(size_t(m_index.size()));
    listing.m_onWebSocket.reserve(size_t(m_index.size()));
    for (const Group *group : {&m_online, &m_updated}) {
        for (const Peer *peer = group->newest; peer; peer = peer->older) {
            peer->holders.fetch_add(1, std::memory_order_relaxed);
            listing.m_peers.push_back(peer);
            listing.m_onWebSocket.push_back(!m_onWebSocket.isEmpty() &&
                                            m_onWebSocket.contains(QByteArray::fromRawData(
                                                peer->id().data(), peer->id().size())));
        }
    }
    return listing;
}

PresenceRegistry::Listing::Listing(Listing &&other) noexcept
    : m_peers(std::exchange(other.m_peers, {})),
      m_onWebSocket(std::exchange(other.m_onWebSocket, {}))
{}

PresenceRegistry::Listing &PresenceRegistry::Listing::operator=(Listing &&other) noexcept
{
    std::swap(m_peers, other.m_peers);
    std::swap(m_onWebSocket, other.m_onWebSocket);
    return *this;
}

PresenceRegistry::Listing::~Listing()
{
    for (const Peer *peer : m_peers)
        Peer::release(peer);
}

QByteArray PresenceRegistry::Listing::toJson() const
{
    qsizetype bytes = 3;
    for (const Peer *peer : m_peers)
        bytes += 64 + peer->idLength + peer->contentLength + peer->extraLength;
    QByteArray json;
    json.reserve(bytes);
    json.append('[');
    for (size_t i = 0; i < m_peers.size(); ++i) {
        if (i > 0)
            json.append(',');
        m_peers[i]->appendRow(json, m_onWebSocket[i]);
    }
    json.append("]\n"); // Go's json.Encoder ends the document with a newline
    json.squeeze();
    return json;
}

void PresenceRegistry::cachePeersJson(quint64 version, const QByteArray &json)
{
    if (version == m_version)
        m_peersJson = json;
}

QByteArray PresenceRegistry::peersJson()
{
    if (m_peersJson.isEmpty())
        m_peersJson = listing().toJson();
    return m_peersJson;
}

PresenceRegistry::Group &PresenceRegistry::groupFor(PresenceMessage::Type type)
{
    return type == PresenceMessage::Type::Online ? m_online : m_updated;
}

void PresenceRegistry::pushFront(Group &group, Peer *peer)
{
    peer->newer = nullptr;
    peer->older = group.newest;
    if (group.newest)
        group.newest->newer = peer;
    group.newest = peer;
    if (!group.oldest)
        group.oldest = peer;
    ++group.count;
}

void PresenceRegistry::insertByLastSeen(Group &group, Peer *peer)
{
    // Rows arrive almost in order, so the walk from the front is short. Equal stamps (two
    // instances accepting publishes in the same microsecond) go by ID: the same order on
    // every instance, whatever order the rows reached it in.
    const auto newer = [peer](const Peer *other) {
        return other->lastSeenUs > peer->lastSeenUs ||
               (other->lastSeenUs == peer->lastSeenUs && other->id() > peer->id());
    };
    Peer *older = group.newest;
    while (older && newer(older))
        older = older->older;
    Peer *next = older ? older->newer : group.oldest;
    peer->older = older;
    peer->newer = next;
    (next ? next->older : group.newest) = peer;
    (older ? older->newer : group.oldest) = peer;
    ++group.count;
}

void PresenceRegistry::unlink(Peer *peer)
{
    Group &group = groupFor(peer->type());
    (peer->newer ? peer->newer->older : group.newest) = peer->older;
    (peer->older ? peer->older->newer : group.oldest) = peer->newer;
    --group.count;
}

// `departedUs` < 0: the row is being replaced, not leaving.
void PresenceRegistry::remove(Peer *peer, qint64 departedUs)
{
    unlink(peer);
    if (departedUs >= 0)
        m_departures.insert(peer->id().toByteArray(), departedUs);
    m_index.remove(peer);
    changed();
    Peer::release(peer);
}
