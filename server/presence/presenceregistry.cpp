#include "presenceregistry.h"

#include "jsonreader.h"
#include "jsonwriter.h"

namespace {

// Extra members a peer sent that would collide with the row's own keys stay out of the row
// (they still reach subscribers in the event).
QByteArray rowExtraMembers(const QByteArray &extraMembers)
{
    if (!extraMembers.contains("\"peer_id\"") && !extraMembers.contains("\"last_seen\""))
        return extraMembers;
    QByteArray kept;
    const QByteArray object = '{' + extraMembers + '}';
    const auto members = JsonReader::readObject(object);
    for (const JsonReader::Member &member : *members) {
        if (member.name == "peer_id" || member.name == "last_seen")
            continue;
        if (!kept.isEmpty())
            kept.append(',');
        JsonWriter::appendString(kept, member.name);
        kept.append(':').append(member.text);
    }
    return kept;
}

QByteArray rowJson(const PresenceMessage &message, qint64 lastSeenMs)
{
    QByteArray row;
    row.reserve(80 + message.peerId.size() + message.content.size() + message.extraMembers.size());
    row.append("{\"peer_id\":");
    JsonWriter::appendString(row, message.peerId);
    row.append(",\"type\":\"")
        .append(PresenceMessage::typeName(message.type))
        .append("\",\"content\":");
    JsonWriter::appendString(row, message.content);
    row.append(",\"ts\":");
    JsonWriter::appendInteger(row, message.ts);
    row.append(",\"last_seen\":");
    JsonWriter::appendInteger(row, lastSeenMs);
    const QByteArray extra = rowExtraMembers(message.extraMembers);
    if (!extra.isEmpty())
        row.append(',').append(extra);
    row.append('}');
    return row;
}

} // namespace

PresenceRegistry::Change PresenceRegistry::apply(const PresenceMessage &message, qint64 lastSeenMs,
                                                 qint64 monotonicMs)
{
    if (message.type == PresenceMessage::Type::Offline) {
        if (!m_index.contains(message.peerId))
            return Change::NothingToRemove;
        remove(message.peerId);
        return Change::Removed;
    }

    m_peersJsonStale = true;
    Group &group = groupFor(message.type);
    Peer peer{message.peerId, rowJson(message, lastSeenMs), monotonicMs};
    const auto found = m_index.find(message.peerId);
    if (found == m_index.end()) {
        group.push_front(std::move(peer));
        m_index.insert(message.peerId, {&group, group.begin()});
        return Change::Registered;
    }
    Location &location = found.value();
    group.splice(group.begin(), *location.group, location.position);
    *group.begin() = std::move(peer);
    location = {&group, group.begin()};
    return Change::Refreshed;
}

QList<QByteArray> PresenceRegistry::removeSeenBefore(qint64 monotonicCutoffMs)
{
    QList<QByteArray> removed;
    for (;;) {
        Group *oldest = nullptr;
        for (Group *group : {&m_online, &m_updated}) {
            if (!group->empty() && group->back().seenMonotonicMs < monotonicCutoffMs &&
                (!oldest || group->back().seenMonotonicMs < oldest->back().seenMonotonicMs))
                oldest = group;
        }
        if (!oldest)
            return removed;
        removed.append(oldest->back().peerId);
        remove(oldest->back().peerId);
    }
}

std::optional<qint64> PresenceRegistry::oldestSeen() const
{
    std::optional<qint64> oldest;
    for (const Group *group : {&m_online, &m_updated}) {
        if (!group->empty() && (!oldest || group->back().seenMonotonicMs < *oldest))
            oldest = group->back().seenMonotonicMs;
    }
    return oldest;
}

const QByteArray &PresenceRegistry::peersJson()
{
    if (!m_peersJsonStale)
        return m_peersJson;
    qsizetype bytes = 3;
    for (const Group *group : {&m_online, &m_updated})
        for (const Peer &peer : *group)
            bytes += peer.row.size() + 1;
    m_peersJson.clear();
    m_peersJson.reserve(bytes);
    m_peersJson.append('[');
    for (const Group *group : {&m_online, &m_updated}) {
        for (const Peer &peer : *group) {
            if (m_peersJson.size() > 1)
                m_peersJson.append(',');
            m_peersJson.append(peer.row);
        }
    }
    m_peersJson.append("]\n"); // Go's json.Encoder ends the document with a newline
    m_peersJsonStale = false;
    return m_peersJson;
}

PresenceRegistry::Group &PresenceRegistry::groupFor(PresenceMessage::Type type)
{
    return type == PresenceMessage::Type::Online ? m_online : m_updated;
}

void PresenceRegistry::remove(const QByteArray &peerId)
{
    const auto found = m_index.find(peerId);
    found->group->erase(found->position);
    m_index.erase(found);
    m_peersJsonStale = true;
}
