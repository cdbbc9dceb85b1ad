#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>

#include <utility>

class RedisBackplane;
class RendezvousPoint;
struct SharedRegistration;

// Shares the libp2p rendezvous point's registrations between the instances of a cluster, as the
// backplane shares presence: what the point accepts or removes goes to Redis, what other
// instances did comes back on the stream, and each snapshot replaces what came from elsewhere.
// Lives in the main thread, with the backplane; the point calls it from the host's thread.
class ClusterRendezvous : public QObject
{
    Q_OBJECT

public:
    // Sets the point's sharing hooks: before the libp2p host starts, and before the backplane's
    // first snapshot.
    ClusterRendezvous(RedisBackplane &backplane, RendezvousPoint &point, QObject *parent = nullptr);

private:
    void arrived(const QByteArray &key, const QByteArray &value);
    void removed(const QByteArray &key);
    void loaded(const QList<std::pair<QByteArray, QByteArray>> &registrations);

    RedisBackplane &m_backplane;
    RendezvousPoint &m_point;
};
