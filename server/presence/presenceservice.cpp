#include "presenceservice.h"

#include "logcategories.h"
#include "textquote.h"

#include <QDateTime>

PresenceService::PresenceService(std::chrono::milliseconds peerTtl, QObject *parent)
    : QObject(parent), m_peerTtlMs(peerTtl.count())
{
    m_clock.start();
    m_expiryTimer.setSingleShot(true);
    m_expiryTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_expiryTimer, &QTimer::timeout, this, &PresenceService::expireSilentPeers);
}

void PresenceService::publish(PresenceMessage message)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (message.ts == 0)
        message.ts = now;
    const auto change = m_registry.apply(message, now, m_clock.elapsed());
    const QByteArray json = message.toJson();
    switch (change) {
    case PresenceRegistry::Change::Registered:
        qCInfo(lcPresence, "peer %s %s %s (%lld online)", goQuoted(message.peerId).constData(),
               PresenceMessage::typeName(message.type).data(),
               goQuoted(message.content).constData(), static_cast<long long>(m_registry.size()));
        break;
    case PresenceRegistry::Change::Refreshed:
        qCDebug(lcPresence, "peer %s %s", goQuoted(message.peerId).constData(),
                PresenceMessage::typeName(message.type).data());
        break;
    case PresenceRegistry::Change::Removed:
    case PresenceRegistry::Change::NothingToRemove:
        qCInfo(lcPresence, "peer %s offline%s (%lld online)", goQuoted(message.peerId).constData(),
               change == PresenceRegistry::Change::Removed ? "" : " (was not registered)",
               static_cast<long long>(m_registry.size()));
        break;
    }
    if (!m_expiryTimer.isActive())
        scheduleExpiry();
    Q_EMIT eventAccepted(json);
}

void PresenceService::expireSilentPeers()
{
    const QList<QByteArray> expired =
        m_registry.removeSeenBefore(m_clock.elapsed() - m_peerTtlMs + 1);
    for (const QByteArray &peerId : expired) {
        PresenceMessage offline;
        offline.type = PresenceMessage::Type::Offline;
        offline.peerId = peerId;
        offline.ts = QDateTime::currentMSecsSinceEpoch();
        qCInfo(lcPresence, "peer %s expired after %lld ms of silence (%lld online)",
               goQuoted(peerId).constData(), static_cast<long long>(m_peerTtlMs),
               static_cast<long long>(m_registry.size()));
        Q_EMIT eventAccepted(offline.toJson());
    }
    scheduleExpiry();
}

void PresenceService::scheduleExpiry()
{
    const auto oldest = m_registry.oldestSeen();
    if (!oldest) {
        m_expiryTimer.stop();
        return;
    }
    const qint64 due = *oldest + m_peerTtlMs - m_clock.elapsed();
    m_expiryTimer.start(std::chrono::milliseconds(qMax<qint64>(due, 0)));
}
