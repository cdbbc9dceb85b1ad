#include "punchhints.h"

#include "jsonwriter.h"
#include "presenceservice.h"

#include <QDateTime>

namespace {

QByteArray jsonArray(const QList<QByteArray> &strings)
{
    QByteArray out = "[";
    for (qsizetype i = 0; i < strings.size(); ++i) {
        if (i > 0)
            out.append(',');
        JsonWriter::appendString(out, strings[i]);
    }
    return out.append(']');
}

} // namespace

PunchHints::PunchHints(PresenceService &presence, Deliver deliver, Audience anyoneListens,
                       std::chrono::milliseconds cooldown, QObject *parent)
    : QObject(parent), m_presence(presence), m_deliver(std::move(deliver)),
      m_anyoneListens(std::move(anyoneListens)), m_cooldownMs(cooldown.count())
{
    m_clock.start();
    // Queued: the signal comes under the presence lock, and the hints need to read the peers.
    connect(&presence, &PresenceService::addressesChanged, this, &PunchHints::peerAddressesChanged,
            Qt::QueuedConnection);
}

QByteArray PunchHints::hint(const QByteArray &peerId, const QByteArray &target,
                            const QByteArray &addrsJson, qint64 nowMs)
{
    QByteArray out = "{\"type\":\"punch\",\"peerId\":";
    JsonWriter::appendString(out, peerId);
    out.append(",\"target\":");
    JsonWriter::appendString(out, target);
    out.append(",\"addrs\":").append(addrsJson).append(",\"ts\":");
    JsonWriter::appendInteger(out, nowMs);
    return out.append('}');
}

void PunchHints::peerAddressesChanged(const QByteArray &arriving)
{
    if (!m_anyoneListens())
        return;
    const QList<QByteArray> addresses = m_presence.addressesOf(arriving);
    if (addresses.isEmpty())
        return; // gone, or without addrs again, by now
    const qint64 now = m_clock.elapsed();
    if (now >= m_nextSweepMs) { // bounded: pairs older than the cooldown are forgotten
        m_lastHint.removeIf([&](const auto &pair) { return now - pair.value() >= m_cooldownMs; });
        m_nextSweepMs = now + m_cooldownMs;
    }
    const QByteArray arrivingAddrs = jsonArray(addresses);
    const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
    for (const auto &[other, otherAddresses] : m_presence.peersWithAddresses()) {
        if (other == arriving)
            continue;
        const QByteArray pair =
            arriving < other ? arriving + '\n' + other : other + '\n' + arriving;
        const auto last = m_lastHint.constFind(pair);
        if (last != m_lastHint.cend() && now - last.value() < m_cooldownMs)
            continue;
        m_lastHint.insert(pair, now);
        deliver(other, hint(arriving, other, arrivingAddrs, nowMs));
        deliver(arriving, hint(other, arriving, jsonArray(otherAddresses), nowMs));
    }
}

void PunchHints::deliver(const QByteArray &target, const QByteArray &json)
{
    m_sent.fetch_add(1, std::memory_order_relaxed);
    m_deliver(target, json);
}
