// FanOutSender over real connected sockets, with each way the server has: io_uring (Linux, when
// built with liburing) and one send() per socket (everywhere).
#include "fanoutsender.h"
#include "processstats.h"
#include "socketio.h"
#include "systemcalls.h"

#include <QTest>

#include <vector>

namespace {

// Connected pairs: the first end of each is offered the bytes, the second one reads them.
class Pairs
{
public:
    explicit Pairs(int count)
    {
        for (int i = 0; i < count; ++i) {
            SocketIo::Handle pair[2];
            if (!SocketIo::connectedPair(pair))
                break;
            senders.push_back(pair[0]);
            readers.push_back(pair[1]);
        }
    }
    ~Pairs()
    {
        for (SocketIo::Handle socket : senders)
            SocketIo::close(socket);
        for (SocketIo::Handle socket : readers)
            if (socket != SocketIo::invalidHandle)
                SocketIo::close(socket);
    }

    // Everything waiting on reader i.
    QByteArray drain(size_t i) const
    {
        QByteArray all;
        char buffer[65536];
        qint64 n;
        while ((n = SocketIo::receiveNow(readers[i], buffer, sizeof buffer)) > 0)
            all.append(buffer, n);
        return all;
    }

    std::vector<SocketIo::Handle> senders;
    std::vector<SocketIo::Handle> readers;
};

QByteArray pattern(qsizetype size, char seed)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char(seed + i % 61);
    return bytes;
}

} // namespace

class TestFanOutSender : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { raiseOpenFileLimit(); }

    void bestIsIoUringWhereBuiltWithIt()
    {
        const auto sender = FanOutSender::create(SocketIo::Calls::Best);
#ifdef GOOP_HAVE_IO_URING
        // A kernel or sandbox that refuses io_uring fails here, with its reason.
        QCOMPARE(sender->description(), QStringLiteral("io_uring"));
#else
        QCOMPARE(sender->description(), QStringLiteral("send()"));
#endif
        QCOMPARE(FanOutSender::create(SocketIo::Calls::Portable)->description(),
                 QStringLiteral("send()"));
    }

    // Each socket offered the same bytes twice, over several io_uring submissions.
    void everySocketGetsAllInOrder_data()
    {
        addSystemCallsRows();
    }
    void everySocketGetsAllInOrder()
    {
        QFETCH(SocketIo::Calls, calls);
        const auto sender = FanOutSender::create(calls, 1000);
        Pairs pairs(2500);
        QCOMPARE(pairs.senders.size(), size_t(2500));
        const QByteArray first = pattern(300, 'a');
        const QByteArray second = pattern(200, 'A');
        std::vector<qint64> taken;
        sender->sendToEach(pairs.senders, first.constData(), first.size(), taken);
        QCOMPARE(taken, std::vector<qint64>(pairs.senders.size(), first.size()));
        sender->sendToEach(pairs.senders, second.constData(), second.size(), taken);
        QCOMPARE(taken, std::vector<qint64>(pairs.senders.size(), second.size()));
        for (size_t i = 0; i < pairs.readers.size(); ++i)
            QCOMPARE(pairs.drain(i), first + second);
    }

    // A socket whose reader stops takes part of the bytes, then none; the call never waits for
    // it, the others in the same call take everything, and nothing is taken twice.
    void fullSocketTakesWhatFitsOthersEverything_data()
    {
        addSystemCallsRows();
    }
    void fullSocketTakesWhatFitsOthersEverything()
    {
        QFETCH(SocketIo::Calls, calls);
        const auto sender = FanOutSender::create(calls);
        Pairs pairs(3);
        const QByteArray chunk = pattern(48 * 1024, '0');
        std::vector<qint64> taken;
        QByteArray offeredToFull;
        QByteArray readByOthers[2];
        bool sawShort = false;
        bool sawNothing = false;
        for (int round = 0; round < 10000 && !sawNothing; ++round) {
            sender->sendToEach(pairs.senders, chunk.constData(), chunk.size(), taken);
            QVERIFY(taken[1] >= 0 && taken[1] <= chunk.size());
            sawShort = sawShort || taken[1] < chunk.size();
            sawNothing = taken[1] == 0;
            offeredToFull += chunk.left(taken[1]);
            QCOMPARE(taken[0], chunk.size());
            QCOMPARE(taken[2], chunk.size());
            readByOthers[0] += pairs.drain(0);
            readByOthers[1] += pairs.drain(2);
        }
        QVERIFY(sawShort);
        QVERIFY(sawNothing);
        QCOMPARE(pairs.drain(1), offeredToFull);
        QCOMPARE(readByOthers[0].size(), readByOthers[1].size());
        QVERIFY(readByOthers[0].size() > offeredToFull.size());
    }

    void goneConnectionIsMinusOne_data()
    {
        addSystemCallsRows();
    }
    void goneConnectionIsMinusOne()
    {
        QFETCH(SocketIo::Calls, calls);
        const auto sender = FanOutSender::create(calls);
        Pairs pairs(3);
        SocketIo::close(pairs.readers[1]);
        pairs.readers[1] = SocketIo::invalidHandle;
        const QByteArray event = pattern(100, 'e');
        std::vector<qint64> taken;
        // Over TCP (Windows' socket pairs) the first send after the close may still be taken.
        QByteArray expected;
        for (int round = 0; round < 100 && (taken.empty() || taken[1] != -1); ++round) {
            sender->sendToEach(pairs.senders, event.constData(), event.size(), taken);
            QCOMPARE(taken[0], event.size());
            QCOMPARE(taken[2], event.size());
            expected += event;
        }
        QCOMPARE(taken[1], qint64(-1));
        QCOMPARE(pairs.drain(0), expected);
        QCOMPARE(pairs.drain(2), expected);
    }
};

QTEST_GUILESS_MAIN(TestFanOutSender)
#include "tst_fanoutsender.moc"
