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
    QMutexLocker locker(&m_mutex);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (message.ts == 0)
        message.ts = now;
    const auto change = m_registry.apply(message, now, m_clock.elapsed());
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
    if (!m_expiryScheduled && m_registry.size() > 0) {
        m_expiryScheduled = true;
        QMetaObject::invokeMethod(this, &PresenceService::scheduleExpiry, Qt::QueuedConnection);
    }
    Q_EMIT eventAccepted(message.toJson());
}

QByteArray PresenceService::peersJson()
{
    QMutexLocker locker(&m_mutex);
    return m_registry.peersJson();
}

qsizetype PresenceService::peerCount() const
{
    QMutexLocker locker(&m_mutex);
    return m_registry.size();
}

void PresenceService::expireSilentPeers()
{
    QMutexLocker locker(&m_mutex);
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
    locker.unlock();
    scheduleExpiry();
}

void PresenceService::scheduleExpiry()
{
    QMutexLocker locker(&m_mutex);
    const auto oldest = m_registry.oldestSeen();
    m_expiryScheduled = oldest.has_value();
    if (!oldest) {
        m_expiryTimer.stop();
        return;
    }
    const qint64 due = *oldest + m_peerTtlMs - m_clock.elapsed();
    m_expiryTimer.start(std::chrono::milliseconds(qMax<qint64>(due, 0)));
}
