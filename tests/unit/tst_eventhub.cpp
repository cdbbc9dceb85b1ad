// The event hub over real loopback TCP connections, with each set of calls the server has for
// waiting and sending: epoll and io_uring (Linux's), and poll() with one send() per stream (what
// macOS and Windows run; WSAPoll there).
#include "connectionbudget.h"
#include "eventhub.h"
#include "socketio.h"
#include "sseframe.h"
#include "systemcalls.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <memory>
#include <vector>

namespace {

const QByteArray greeting = QByteArrayLiteral("HTTP/1.1 200 OK\r\n\r\n") + SseFrame::hello;

// Loopback connections whose server ends belong to a hub, the way ApiServer hands them over:
// a duplicate of Qt's descriptor, then Qt's socket dropped.
class Subscribers
{
public:
    Subscribers(EventHub &hub, ConnectionBudget &budget) : m_hub(hub), m_budget(budget)
    {
        QVERIFY(m_listener.listen(QHostAddress::LocalHost));
    }

    QTcpSocket *connect(qint64 readBufferSize = 0)
    {
        auto client = std::make_unique<QTcpSocket>();
        client->setReadBufferSize(readBufferSize);
        client->connectToHost(QHostAddress::LocalHost, m_listener.serverPort());
        if (!client->waitForConnected(5000) || !m_listener.waitForNewConnection(5000))
            return nullptr;
        QTcpSocket *accepted = m_listener.nextPendingConnection();
        const SocketIo::Handle stream = SocketIo::duplicate(accepted->socketDescriptor());
        accepted->abort();
        delete accepted;
        if (stream == SocketIo::invalidHandle || !m_budget.tryAcquire())
            return nullptr;
        m_hub.subscribe(stream, greeting);
        m_clients.push_back(std::move(client));
        return m_clients.back().get();
    }

private:
    EventHub &m_hub;
    ConnectionBudget &m_budget;
    QTcpServer m_listener;
    std::vector<std::unique_ptr<QTcpSocket>> m_clients;
};

// Reads until `size` bytes came or the connection ended; what came.
QByteArray readUpTo(QTcpSocket *client, qint64 size, int timeoutMs = 10000)
{
    QByteArray bytes;
    QElapsedTimer clock;
    clock.start();
    while (bytes.size() < size && clock.elapsed() < timeoutMs) {
        if (client->bytesAvailable() == 0 && !client->waitForReadyRead(200) &&
            client->state() != QAbstractSocket::ConnectedState)
            break;
        bytes += client->readAll();
    }
    return bytes;
}

EventHub::Options options(SocketIo::Calls calls)
{
    EventHub::Options o;
    o.calls = calls;
    o.writerThreads = 2;
    return o;
}

} // namespace

class TestEventHub : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyStreamGetsEveryEventInOrder_data() { addSystemCallsRows(); }
    void everyStreamGetsEveryEventInOrder()
    {
        QFETCH(SocketIo::Calls, calls);
        ConnectionBudget budget(1000);
        EventHub hub(options(calls), budget);
        Subscribers subscribers(hub, budget);
        std::vector<QTcpSocket *> clients;
        for (int i = 0; i < 40; ++i) {
            clients.push_back(subscribers.connect());
            QVERIFY(clients.back());
        }
        QCOMPARE(hub.subscriberCount(), 40);
        QByteArray expected = greeting;
        for (int i = 0; i < 200; ++i) {
            const QByteArray frame = "data: {\"n\":" + QByteArray::number(i) + "}\n\n";
            hub.broadcast(frame);
            expected += frame;
        }
        for (QTcpSocket *client : clients)
            QCOMPARE(readUpTo(client, expected.size()), expected);
        QTRY_COMPARE(hub.deliveredCount(), 40 * 200);
        QCOMPARE(hub.droppedCount(), 0);
    }

    // The one that does not read is cut off at the backlog cap; the one that reads gets it all.
    void slowStreamIsDroppedOthersKeepUp_data() { addSystemCallsRows(); }
    void slowStreamIsDroppedOthersKeepUp()
    {
        QFETCH(SocketIo::Calls, calls);
        ConnectionBudget budget(1000);
        EventHub::Options o = options(calls);
        o.maxBacklogBytes = 256 * 1024;
        o.writerThreads = 1; // both streams on one writer: the slow one must not hold it up
        EventHub hub(o, budget);
        Subscribers subscribers(hub, budget);
        QTcpSocket *reader = subscribers.connect();
        QTcpSocket *stalled = subscribers.connect(1); // Qt reads one byte, then stops reading
        QVERIFY(reader && stalled);
        // Far more than the kernel buffers both ends of a loopback connection can hold.
        const QByteArray frame = "data: " + QByteArray(64 * 1024, 'x') + "\n\n";
        const int frames = 400;
        // The reader keeps up: it has every frame before the next one is broadcast.
        qint64 received = readUpTo(reader, greeting.size()).size();
        for (int i = 0; i < frames; ++i) {
            hub.broadcast(frame);
            received +=
                readUpTo(reader, greeting.size() + qint64(i + 1) * frame.size() - received).size();
        }
        QCOMPARE(received, greeting.size() + qint64(frames) * frame.size());
        QTRY_COMPARE(hub.droppedCount(), 1);
        QTRY_COMPARE(hub.subscriberCount(), 1);
        QCOMPARE(budget.inUse(), 1);
        stalled->setReadBufferSize(0);
        QTRY_COMPARE(stalled->state(), QAbstractSocket::UnconnectedState); // it was disconnected
    }

    // A client that goes away is noticed without anything being sent to it.
    void closedClientIsForgotten_data() { addSystemCallsRows(); }
    void closedClientIsForgotten()
    {
        QFETCH(SocketIo::Calls, calls);
        ConnectionBudget budget(1000);
        EventHub hub(options(calls), budget);
        Subscribers subscribers(hub, budget);
        QTcpSocket *leaving = subscribers.connect();
        QTcpSocket *staying = subscribers.connect();
        QVERIFY(leaving && staying);
        QCOMPARE(readUpTo(leaving, greeting.size()), greeting);
        leaving->close();
        QTRY_COMPARE(hub.subscriberCount(), 1);
        QCOMPARE(budget.inUse(), 1);
        QCOMPARE(hub.droppedCount(), 0);
    }

    void heartbeatsReachIdleStreams_data() { addSystemCallsRows(); }
    void heartbeatsReachIdleStreams()
    {
        QFETCH(SocketIo::Calls, calls);
        ConnectionBudget budget(1000);
        EventHub::Options o = options(calls);
        o.heartbeat = std::chrono::milliseconds(100);
        EventHub hub(o, budget);
        Subscribers subscribers(hub, budget);
        QTcpSocket *client = subscribers.connect();
        QVERIFY(client);
        const QByteArray expected = greeting + SseFrame::ping + SseFrame::ping;
        QCOMPARE(readUpTo(client, expected.size(), 5000), expected);
    }

    void closeAllEndsEveryStream_data() { addSystemCallsRows(); }
    void closeAllEndsEveryStream()
    {
        QFETCH(SocketIo::Calls, calls);
        ConnectionBudget budget(1000);
        EventHub hub(options(calls), budget);
        Subscribers subscribers(hub, budget);
        std::vector<QTcpSocket *> clients;
        for (int i = 0; i < 5; ++i)
            clients.push_back(subscribers.connect());
        hub.broadcast("data: last\n\n");
        hub.closeAll();
        for (QTcpSocket *client : clients) {
            QCOMPARE(readUpTo(client, 1 << 20, 5000), greeting + "data: last\n\n");
            QTRY_COMPARE(client->state(), QAbstractSocket::UnconnectedState);
        }
        QTRY_COMPARE(hub.subscriberCount(), 0);
        QCOMPARE(budget.inUse(), 0);
    }
};

QTEST_GUILESS_MAIN(TestEventHub)
#include "tst_eventhub.moc"
