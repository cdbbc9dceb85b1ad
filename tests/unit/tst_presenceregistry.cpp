#include "presenceregistry.h"

#include <QTest>

namespace {

PresenceMessage message(PresenceMessage::Type type, const QByteArray &peerId,
                        const QByteArray &extra = {})
{
    PresenceMessage m;
    m.type = type;
    m.peerId = peerId;
    m.content = "label-" + peerId;
    m.ts = 100;
    m.extraMembers = extra;
    return m;
}

QList<QByteArray> idsInOrder(PresenceRegistry &registry)
{
    QList<QByteArray> ids;
    const QByteArray json = registry.peersJson();
    for (qsizetype at = json.indexOf("\"peer_id\":\""); at >= 0;
         at = json.indexOf("\"peer_id\":\"", at + 1)) {
        const qsizetype start = at + 11;
        ids.append(json.mid(start, json.indexOf('"', start) - start));
    }
    return ids;
}

using Type = PresenceMessage::Type;

} // namespace

class TestPresenceRegistry : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rowsFromTheClusterGoByLastSeen()
    {
        // Every instance of a cluster must list the same order whatever order rows reach it in.
        PresenceRegistry registry;
        const auto place = [&](const QByteArray &id, qint64 lastSeenUs) {
            registry.applyAt(message(Type::Online, id), lastSeenUs, lastSeenUs / 1000,
                             PresenceRegistry::Placement::ByLastSeen, false);
        };
        place("b", 2000);
        place("d", 4000);
        place("a", 1000);
        place("c", 3000);
        QCOMPARE(idsInOrder(registry), (QList<QByteArray>{"d", "c", "b", "a"}));
        QCOMPARE(registry.lastSeenOf("c"), std::optional<qint64>(3000));
        QCOMPARE(registry.lastSeenOf("zz"), std::nullopt);
        place("a", 5000); // moves to the front
        QCOMPARE(idsInOrder(registry), (QList<QByteArray>{"a", "d", "c", "b"}));
        QCOMPARE(registry.removeSeenBefore(3), (QList<QByteArray>{"b"}));
        QCOMPARE(registry.rows().size(), 3);

        // Equal stamps go by ID, whichever arrives first.
        place("x", 6000);
        place("y", 6000);
        PresenceRegistry other;
        other.applyAt(message(Type::Online, "y"), 6000, 6, PresenceRegistry::Placement::ByLastSeen,
                      false);
        other.applyAt(message(Type::Online, "x"), 6000, 6, PresenceRegistry::Placement::ByLastSeen,
                      false);
        QCOMPARE(idsInOrder(registry).mid(0, 2), idsInOrder(other));
        QCOMPARE(idsInOrder(other), (QList<QByteArray>{"y", "x"}));
    }

    void countsByType()
    {
        PresenceRegistry registry;
        registry.apply(message(Type::Online, "a"), 1, 1);
        registry.apply(message(Type::Online, "b"), 2, 2);
        registry.apply(message(Type::Update, "a"), 3, 3);
        QCOMPARE(registry.countOf(Type::Online), 1);
        QCOMPARE(registry.countOf(Type::Update), 1);
        registry.apply(message(Type::Offline, "b"), 4, 4);
        registry.removeSeenBefore(10);
        QCOMPARE(registry.countOf(Type::Online), 0);
        QCOMPARE(registry.countOf(Type::Update), 0);
    }

    void emptyIsAnEmptyArray()
    {
        PresenceRegistry registry;
        QCOMPARE(registry.peersJson(), QByteArray("[]\n"));
    }

    void rowBytes()
    {
        PresenceRegistry registry;
        registry.apply(message(Type::Online, "a<b", "\"addrs\":[\"/ip4/1\"]"), 555, 1);
        QCOMPARE(registry.peersJson(),
                 QByteArray("[{\"peer_id\":\"a\\u003cb\",\"type\":\"online\","
                            "\"content\":\"label-a\\u003cb\",\"ts\":100,"
                            "\"last_seen\":555,\"addrs\":[\"/ip4/1\"],\"verified\":false}]\n"));
    }

    void rowKeysCannotBeForged()
    {
        PresenceRegistry registry;
        registry.apply(message(Type::Online, "a", "\"peer_id\":\"evil\",\"x\":1,\"last_seen\":0"),
                       555, 1);
        QCOMPARE(registry.peersJson(),
                 QByteArray("[{\"peer_id\":\"a\",\"type\":\"online\",\"content\":\"label-a\","
                            "\"ts\":100,\"last_seen\":555,\"x\":1,\"verified\":false}]\n"));
    }

    void onlineFirstThenMostRecentlySeen()
    {
        PresenceRegistry registry;
        QCOMPARE(registry.apply(message(Type::Online, "a"), 1, 1),
                 PresenceRegistry::Change::Registered);
        registry.apply(message(Type::Update, "b"), 2, 2);
        registry.apply(message(Type::Online, "c"), 3, 3);
        registry.apply(message(Type::Update, "d"), 4, 4);
        QCOMPARE(idsInOrder(registry), (QList<QByteArray>{"c", "a", "d", "b"}));
        // a moves from the online group to the front of the update group.
        QCOMPARE(registry.apply(message(Type::Update, "a"), 5, 5),
                 PresenceRegistry::Change::Refreshed);
        QCOMPARE(idsInOrder(registry), (QList<QByteArray>{"c", "a", "d", "b"}.mid(0, 1) +
                                        QList<QByteArray>{"a", "d", "b"}));
        QCOMPARE(registry.size(), 4);
    }

    void offline()
    {
        PresenceRegistry registry;
        registry.apply(message(Type::Online, "a"), 1, 1);
        QCOMPARE(registry.apply(message(Type::Offline, "a"), 2, 2),
                 PresenceRegistry::Change::Removed);
        QCOMPARE(registry.apply(message(Type::Offline, "a"), 3, 3),
                 PresenceRegistry::Change::NothingToRemove);
        QCOMPARE(registry.size(), 0);
        QCOMPARE(registry.peersJson(), QByteArray("[]\n"));
    }

    void expiryTakesTheOldestAcrossGroups()
    {
        PresenceRegistry registry;
        registry.apply(message(Type::Online, "a"), 0, 10);
        registry.apply(message(Type::Update, "b"), 0, 20);
        registry.apply(message(Type::Online, "c"), 0, 30);
        registry.apply(message(Type::Update, "a"), 0, 40); // a refreshed: now the newest
        QCOMPARE(registry.oldestSeen(), std::optional<qint64>(20));
        QCOMPARE(registry.removeSeenBefore(31), (QList<QByteArray>{"b", "c"}));
        QCOMPARE(idsInOrder(registry), QList<QByteArray>{"a"});
        QCOMPARE(registry.oldestSeen(), std::optional<qint64>(40));
        QVERIFY(registry.removeSeenBefore(40).isEmpty());
        QCOMPARE(registry.removeSeenBefore(41), QList<QByteArray>{"a"});
        QCOMPARE(registry.oldestSeen(), std::nullopt);
    }

    void cacheFollowsChanges()
    {
        PresenceRegistry registry;
        registry.apply(message(Type::Online, "a"), 1, 1);
        const QByteArray first = registry.peersJson();
        QCOMPARE(registry.peersJson(), first);
        registry.apply(message(Type::Online, "b"), 2, 2);
        QVERIFY(registry.peersJson() != first);
        QCOMPARE(idsInOrder(registry), (QList<QByteArray>{"b", "a"}));
    }

    void expiryInSlices()
    {
        PresenceRegistry registry;
        for (int i = 0; i < 5; ++i)
            registry.apply(message(Type::Online, "p" + QByteArray::number(i)), 0, i);
        QCOMPARE(registry.removeSeenBefore(10, 2), (QList<QByteArray>{"p0", "p1"}));
        QCOMPARE(registry.removeSeenBefore(10, 2), (QList<QByteArray>{"p2", "p3"}));
        QCOMPARE(registry.removeSeenBefore(10, 2), QList<QByteArray>{"p4"});
        QCOMPARE(registry.size(), 0);
    }

    // A listing is written out without the registry's lock (issue 16: /peers.json at 50,000
    // peers is 6 MB, too much to build under the lock publishes take): it holds its peers, so
    // it writes the rows as they were when it was taken even after they were replaced or
    // removed (ASan in CI: no use after free), and a body built from an old listing is not
    // cached over newer rows.
    void aListingOutlivesTheRowsItWasTakenFrom()
    {
        PresenceRegistry registry;
        registry.apply(message(Type::Online, "a"), 1, 1);
        registry.apply(message(Type::Online, "b", "\"email\":\"b@example.org\""), 2, 2);
        registry.setWebSocketConnected("b", true);
        const quint64 version = registry.version();
        const QByteArray expected = registry.peersJson();
        PresenceRegistry::Listing listing = registry.listing();

        registry.apply(message(Type::Offline, "b"), 3, 3);
        registry.apply(message(Type::Update, "a"), 4, 4);
        registry.apply(message(Type::Online, "c"), 5, 5);
        QCOMPARE(listing.toJson(), expected);
        QVERIFY(expected.contains("\"ws_connected\":true"));

        registry.cachePeersJson(version, listing.toJson()); // stale: ignored
        QCOMPARE(registry.cachedPeersJson(), QByteArray());
        QCOMPARE(idsInOrder(registry), (QList<QByteArray>{"c", "a"}));
        PresenceRegistry::Listing moved = std::move(listing);
        QCOMPARE(moved.toJson(), expected);
    }
};

QTEST_APPLESS_MAIN(TestPresenceRegistry)
#include "tst_presenceregistry.moc"
