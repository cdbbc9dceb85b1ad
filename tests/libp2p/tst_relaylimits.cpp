#include "libp2p/identitykey.h"
#include "libp2p/multiaddr.h"
#include "libp2p/peerid.h"
#include "libp2p/relay/circuitcounter.h"
#include "libp2p/relay/reservationstore.h"

#include <QTest>

// The relay's bookkeeping: reservations by TTL, connection, peer and IP address, and the
// circuit counts, with time given by hand.
class TestRelayLimits : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void reservationLastsItsTtlAndRefreshes();
    void reservationEndsWithItsConnection();
    void reservationsAreCappedInAllPerPeerAndPerIp();
    void circuitsAreCappedInAllAndPerPeer();
};

namespace {

PeerId newPeer()
{
    return PeerId::fromPublicKey(IdentityKey::generate().publicKeyProtobuf());
}

Multiaddr connection(const char *ip, quint16 port)
{
    return Multiaddr::tcp(QHostAddress(QString::fromLatin1(ip)), port);
}

} // namespace

void TestRelayLimits::reservationLastsItsTtlAndRefreshes()
{
    RelayLimits limits;
    limits.reservationTtl = std::chrono::seconds(3600);
    ReservationStore store(limits);
    const PeerId peer = newPeer();
    const Multiaddr from = connection("192.0.2.1", 5000);
    QCOMPARE(store.reserve(peer, from, QHostAddress("192.0.2.1"), 1000), qint64(4600));
    QCOMPARE(store.reservedConnection(peer, 4599), from);
    QVERIFY(!store.reservedConnection(peer, 4600));
    // A refresh moves the expiry and takes no second slot.
    QCOMPARE(store.reserve(peer, from, QHostAddress("192.0.2.1"), 2000), qint64(5600));
    QCOMPARE(store.count(), 1);
    QVERIFY(store.reservedConnection(peer, 5000));
    store.expire(5600);
    QCOMPARE(store.count(), 0);
}

void TestRelayLimits::reservationEndsWithItsConnection()
{
    RelayLimits limits;
    ReservationStore store(limits);
    const PeerId peer = newPeer();
    const Multiaddr first = connection("192.0.2.1", 5000);
    const Multiaddr second = connection("192.0.2.1", 5001);
    QVERIFY(store.reserve(peer, first, QHostAddress("192.0.2.1"), 10));
    QVERIFY(store.reserve(peer, second, QHostAddress("192.0.2.1"), 20));
    QVERIFY(store.holdsConnection(peer, first, 30));
    QVERIFY(!store.holdsConnection(peer, first, 10 + limits.reservationTtl.count()));
    QCOMPARE(store.reservedConnection(peer, 30), second); // the latest
    store.connectionClosed(peer, second);
    QCOMPARE(store.reservedConnection(peer, 30), first);
    store.connectionClosed(peer, first);
    QVERIFY(!store.reservedConnection(peer, 30));
    QVERIFY(!store.holdsConnection(peer, first, 30));
}

void TestRelayLimits::reservationsAreCappedInAllPerPeerAndPerIp()
{
    RelayLimits limits;
    limits.maxReservations = 4;
    limits.maxReservationsPerPeer = 2;
    limits.maxReservationsPerIp = 3;
    ReservationStore store(limits);
    const PeerId a = newPeer();
    QVERIFY(store.reserve(a, connection("192.0.2.1", 1), QHostAddress("192.0.2.1"), 0));
    QVERIFY(store.reserve(a, connection("192.0.2.1", 2), QHostAddress("192.0.2.1"), 0));
    QVERIFY(!store.reserve(a, connection("192.0.2.9", 3), QHostAddress("192.0.2.9"), 0));
    QVERIFY(store.reserve(newPeer(), connection("192.0.2.1", 4), QHostAddress("192.0.2.1"), 0));
    QVERIFY(!store.reserve(newPeer(), connection("192.0.2.1", 5), QHostAddress("192.0.2.1"), 0));
    QVERIFY(store.reserve(newPeer(), connection("192.0.2.2", 6), QHostAddress("192.0.2.2"), 0));
    QCOMPARE(store.count(), 4);
    QVERIFY(!store.reserve(newPeer(), connection("192.0.2.3", 7), QHostAddress("192.0.2.3"), 0));
    // Refreshing a held reservation is never refused, even when full.
    QVERIFY(store.reserve(a, connection("192.0.2.1", 1), QHostAddress("192.0.2.1"), 5));
    // Expired ones make room.
    QVERIFY(store.reserve(newPeer(), connection("192.0.2.3", 8), QHostAddress("192.0.2.3"),
                          limits.reservationTtl.count() + 1));
}

void TestRelayLimits::circuitsAreCappedInAllAndPerPeer()
{
    RelayLimits limits;
    limits.maxCircuits = 3;
    limits.maxCircuitsPerPeer = 2;
    CircuitCounter counter(limits);
    const PeerId a = newPeer(), b = newPeer(), c = newPeer(), d = newPeer();
    QVERIFY(counter.tryOpen(a, b));
    QVERIFY(counter.tryOpen(c, b));
    QVERIFY(!counter.tryOpen(d, b)); // b is the target of two already
    QVERIFY(!counter.tryOpen(b, d)); // and counts as source too
    QVERIFY(counter.tryOpen(c, d));
    QCOMPARE(counter.count(), 3);
    QVERIFY(!counter.tryOpen(a, d)); // three in all
    counter.close(a, b);
    QCOMPARE(counter.countFor(a), 0);
    QCOMPARE(counter.countFor(b), 1);
    QVERIFY(counter.tryOpen(a, d));
}

QTEST_GUILESS_MAIN(TestRelayLimits)
#include "tst_relaylimits.moc"
