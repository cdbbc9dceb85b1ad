// IdIndex: items found by the ID they hold, through growth and many removals, against
// std::unordered_map doing the same.
#include "idindex.h"

#include <QByteArray>
#include <QRandomGenerator>
#include <QTest>

#include <memory>
#include <unordered_map>

namespace {

struct Item
{
    QByteArray name;
    QByteArrayView id() const { return name; }
};

} // namespace

class TestIdIndex : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void findsWhatItHoldsAndNothingElse()
    {
        IdIndex<Item> index;
        QCOMPARE(index.find("a"), nullptr);
        Item a{"a"}, b{"b"};
        index.insert(&a);
        index.insert(&b);
        QCOMPARE(index.size(), 2);
        QCOMPARE(index.find("a"), &a);
        QCOMPARE(index.find(QByteArray("b")), &b);
        QCOMPARE(index.find("c"), nullptr);
        index.remove(&a);
        QCOMPARE(index.find("a"), nullptr);
        QCOMPARE(index.find("b"), &b);
        index.remove(&a); // not held: nothing happens
        QCOMPARE(index.size(), 1);
    }

    // Random inserts and removals over a small set of IDs churn removed slots and growth; after
    // every step the index agrees with the map, and at the end forEach visits exactly its items.
    void agreesWithAMapThroughGrowthAndRemovals()
    {
        QRandomGenerator random(20261202);
        std::vector<std::unique_ptr<Item>> items;
        for (int i = 0; i < 5000; ++i)
            items.push_back(std::make_unique<Item>(Item{"12D3KooW" + QByteArray::number(i)}));
        IdIndex<Item> index;
        std::unordered_map<const Item *, bool> held;
        for (int step = 0; step < 200000; ++step) {
            Item *item = items[random.bounded(int(items.size()))].get();
            // Mostly inserts early, as many removals as inserts later.
            const bool insert = random.bounded(100) < (step < 20000 ? 80 : 50);
            if (insert && !held[item]) {
                index.insert(item);
                held[item] = true;
            } else if (!insert && held[item]) {
                index.remove(item);
                held[item] = false;
            }
            const Item *probe = items[random.bounded(int(items.size()))].get();
            QCOMPARE(index.find(probe->id()), held[probe] ? probe : nullptr);
        }
        qsizetype count = 0;
        for (const auto &[item, isHeld] : held)
            count += isHeld;
        QCOMPARE(index.size(), count);
        qsizetype visited = 0;
        index.forEach([&](const Item *item) {
            QVERIFY(held[item]);
            ++visited;
        });
        QCOMPARE(visited, count);
    }

    // Removing everything and inserting again does not grow the table without end.
    void removedSlotsAreReused()
    {
        std::vector<std::unique_ptr<Item>> items;
        for (int i = 0; i < 1000; ++i)
            items.push_back(std::make_unique<Item>(Item{QByteArray::number(i)}));
        IdIndex<Item> index;
        for (int round = 0; round < 100; ++round) {
            for (auto &item : items)
                index.insert(item.get());
            QCOMPARE(index.size(), 1000);
            for (auto &item : items)
                index.remove(item.get());
            QCOMPARE(index.size(), 0);
        }
        QCOMPARE(index.capacity(), size_t(2048)); // 1,000 items fill 2,048 slots to under 7/8
        for (auto &item : items)
            QCOMPARE(index.find(item->id()), nullptr);
    }
};

QTEST_GUILESS_MAIN(TestIdIndex)
#include "tst_idindex.moc"
