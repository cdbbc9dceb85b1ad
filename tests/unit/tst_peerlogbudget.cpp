// PeerLogBudget: at most so many lines about single peers a second, the rest counted by kind and
// told once their second is over.
#include "peerlogbudget.h"

#include <QTest>

class TestPeerLogBudget : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void admitsUpToTheBudgetEachSecond()
    {
        PeerLogBudget budget(3);
        QVERIFY(budget.admit(PeerLogBudget::CameOnline, 5000));
        QVERIFY(budget.admit(PeerLogBudget::CameOnline, 5100));
        QVERIFY(budget.admit(PeerLogBudget::WentOffline, 5200));
        QVERIFY(!budget.holdsBack());
        QVERIFY(!budget.admit(PeerLogBudget::CameOnline, 5300));
        QVERIFY(!budget.admit(PeerLogBudget::CameOnline, 5999));
        QVERIFY(!budget.admit(PeerLogBudget::Expired, 5999));
        QVERIFY(budget.holdsBack());
        QCOMPARE(budget.windowEndMs(), 6000);
        // Told only once the second is over, then forgotten.
        QVERIFY(budget.takeSummary(5999).isEmpty());
        QCOMPARE(budget.takeSummary(6000), QByteArray("2 more peers came online, 1 expired"));
        QVERIFY(!budget.holdsBack());
        QVERIFY(budget.takeSummary(6000).isEmpty());
        // A new second, a new budget.
        QVERIFY(budget.admit(PeerLogBudget::WentOffline, 6000));
        QVERIFY(budget.admit(PeerLogBudget::WentOffline, 6001));
        QVERIFY(budget.admit(PeerLogBudget::WentOffline, 6002));
        QVERIFY(!budget.admit(PeerLogBudget::WentOffline, 6003));
        QCOMPARE(budget.takeSummary(7500), QByteArray("1 more peer went offline"));
    }

    void quietTimeNeedsNoSummary()
    {
        PeerLogBudget budget(1);
        QVERIFY(budget.admit(PeerLogBudget::CameOnline, 0));
        QVERIFY(budget.admit(PeerLogBudget::CameOnline, 1000));
        QVERIFY(budget.admit(PeerLogBudget::CameOnline, 2500));
        QVERIFY(budget.takeSummary(10000).isEmpty());
    }
};

QTEST_APPLESS_MAIN(TestPeerLogBudget)
#include "tst_peerlogbudget.moc"
