#include "clusterrendezvous.h"

#include "libp2p/rendezvous/rendezvouspoint.h"
#include "libp2p/rendezvous/sharedregistration.h"
#include "logcategories.h"
#include "redisbackplane.h"

ClusterRendezvous::ClusterRendezvous(RedisBackplane &backplane, RendezvousPoint &point,
                                     QObject *parent)
    : QObject(parent), m_backplane(backplane), m_point(point)
{
    // Queued to this thread, where the backplane's connection lives; dropped with this object.
    RendezvousPoint::Sharing sharing;
    sharing.registered = [this](const SharedRegistration &registration) {
        QMetaObject::invokeMethod(
            this,
            [this, key = registration.key(), value = registration.value()] {
                m_backplane.shareRegistration(key, value);
            },
            Qt::QueuedConnection);
    };
    sharing.unregistered = [this](const QString &ns, const PeerId &peer) {
        QMetaObject::invokeMethod(
            this,
            [this, key = SharedRegistration::keyOf(ns, peer)] {
                m_backplane.shareUnregistration(key);
            },
            Qt::QueuedConnection);
    };
    m_point.setSharing(std::move(sharing));
    connect(&m_backplane, &RedisBackplane::registrationArrived, this, &ClusterRendezvous::arrived);
    connect(&m_backplane, &RedisBackplane::unregistrationArrived, this,
            &ClusterRendezvous::removed);
    connect(&m_backplane, &RedisBackplane::registrationsLoaded, this, &ClusterRendezvous::loaded);
}

void ClusterRendezvous::arrived(const QByteArray &key, const QByteArray &value)
{
    const auto registration = SharedRegistration::decode(key, value);
    if (!registration) {
        qCWarning(lcCluster, "cluster: ignoring a malformed rendezvous registration");
        return;
    }
    m_point.applyShared(*registration);
}

void ClusterRendezvous::removed(const QByteArray &key)
{
    if (const auto nsAndPeer = SharedRegistration::decodeKey(key))
        m_point.applyUnregistration(nsAndPeer->first, nsAndPeer->second);
}

void ClusterRendezvous::loaded(const QList<std::pair<QByteArray, QByteArray>> &registrations)
{
    std::vector<SharedRegistration> cluster;
    qsizetype malformed = 0;
    for (const auto &[key, value] : registrations) {
        if (auto registration = SharedRegistration::decode(key, value))
            cluster.push_back(std::move(*registration));
        else
            ++malformed;
    }
    if (malformed > 0)
        qCWarning(lcCluster, "cluster: ignoring %lld malformed rendezvous registrations in Redis",
                  static_cast<long long>(malformed));
    // This instance's own registrations stay (they may have been made while Redis was away, or
    // Redis may have lost them): those Redis lacks or holds older are sent again.
    const std::vector<SharedRegistration> own = m_point.resynchronise(cluster);
    for (const SharedRegistration &registration : own)
        m_backplane.shareRegistration(registration.key(), registration.value());
    qCInfo(lcCluster, "cluster: %lld rendezvous registrations loaded, %lld sent again",
           static_cast<long long>(cluster.size()), static_cast<long long>(own.size()));
}
