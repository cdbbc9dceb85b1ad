#include "libp2p/yamuxsession.h"

#include <QTest>
#include <QtEndian>

// Two Yamux sessions back to back: streams, flow control, back-pressure and the bounds.
class TestYamuxSession : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void openWriteClose();
    void windowExhaustionAndBackPressure();
    void peerPastTheWindowIsAProtocolError();
    void streamCapResetsExtraStreams();
    void pingIsAnswered();
    void resetReachesThePeer();
    void wrongParitySynIsAProtocolError();
    void goAwayIsSeen();
};

namespace {

QByteArray header(quint8 type, quint16 flags, quint32 stream, quint32 length)
{
    QByteArray bytes(12, '\0');
    bytes[1] = char(type);
    qToBigEndian(flags, bytes.data() + 2);
    qToBigEndian(stream, bytes.data() + 4);
    qToBigEndian(length, bytes.data() + 8);
    return bytes;
}

struct Pair
{
    YamuxSession client{YamuxSession::Role::Client};
    YamuxSession server{YamuxSession::Role::Server};
    std::vector<YamuxSession::Event> clientEvents;
    std::vector<YamuxSession::Event> serverEvents;

    void pump()
    {
        for (int round = 0; round < 100; ++round) {
            const QByteArray toServer = client.takeOutput();
            const QByteArray toClient = server.takeOutput();
            if (toServer.isEmpty() && toClient.isEmpty())
                break;
            server.feed(toServer);
            client.feed(toClient);
        }
        for (auto &event : client.takeEvents())
            clientEvents.push_back(event);
        for (auto &event : server.takeEvents())
            serverEvents.push_back(event);
    }
};

QByteArray received(const std::vector<YamuxSession::Event> &events, quint32 stream)
{
    QByteArray bytes;
    for (const auto &event : events)
        if (event.type == YamuxSession::Event::Received && event.stream == stream)
            bytes += event.data;
    return bytes;
}

bool has(const std::vector<YamuxSession::Event> &events, YamuxSession::Event::Type type,
         quint32 stream)
{
    for (const auto &event : events)
        if (event.type == type && event.stream == stream)
            return true;
    return false;
}

} // namespace

void TestYamuxSession::openWriteClose()
{
    Pair pair;
    const quint32 id = pair.client.openStream();
    QCOMPARE(id, 1u);
    QCOMPARE(pair.client.openStream(), 3u);
    QCOMPARE(pair.client.write(id, "hello"), 5);
    pair.pump();
    QVERIFY(has(pair.serverEvents, YamuxSession::Event::Opened, 1));
    QCOMPARE(received(pair.serverEvents, 1), QByteArray("hello"));
    QCOMPARE(pair.server.write(1, "back"), 4);
    pair.server.closeWrite(1);
    pair.client.closeWrite(1);
    pair.pump();
    QCOMPARE(received(pair.clientEvents, 1), QByteArray("back"));
    QVERIFY(has(pair.clientEvents, YamuxSession::Event::RemoteClosed, 1));
    QVERIFY(has(pair.serverEvents, YamuxSession::Event::RemoteClosed, 1));
    QVERIFY(!pair.client.hasStream(1));
    QVERIFY(!pair.server.hasStream(1));
    QCOMPARE(pair.server.streamCount(), 1); // stream 3 is still open
}

void TestYamuxSession::windowExhaustionAndBackPressure()
{
    Pair pair;
    const quint32 id = pair.client.openStream();
    const QByteArray megabyte(1024 * 1024, 'm');
    // The peer's window (256 KiB) goes out; the cap (256 KiB more) waits; the rest is refused.
    const qsizetype taken = pair.client.write(id, megabyte);
    QCOMPARE(taken, qsizetype(YamuxSession::initialWindow));
    QCOMPARE(pair.client.sendWindow(id), 0u);
    QCOMPARE(pair.client.write(id, megabyte), qsizetype(YamuxSession::initialWindow));
    QCOMPARE(pair.client.write(id, "x"), 0);
    pair.pump();
    QCOMPARE(received(pair.serverEvents, id).size(), qsizetype(YamuxSession::initialWindow));
    QCOMPARE(pair.client.unsentBytes(id), qsizetype(YamuxSession::initialWindow));

    // Nothing more moves until the receiver says it consumed the bytes.
    pair.serverEvents.clear();
    pair.pump();
    QVERIFY(received(pair.serverEvents, id).isEmpty());
    pair.server.consumed(id, YamuxSession::initialWindow);
    pair.pump();
    QCOMPARE(received(pair.serverEvents, id).size(), qsizetype(YamuxSession::initialWindow));
    QCOMPARE(pair.client.unsentBytes(id), 0);
    QVERIFY(has(pair.clientEvents, YamuxSession::Event::Drained, id));
}

void TestYamuxSession::peerPastTheWindowIsAProtocolError()
{
    YamuxSession server(YamuxSession::Role::Server);
    server.feed(header(YamuxSession::WindowUpdate, YamuxSession::Syn, 1, 0));
    server.feed(header(YamuxSession::Data, 0, 1, YamuxSession::initialWindow) +
                QByteArray(YamuxSession::initialWindow, 'a'));
    QVERIFY(!server.failed());
    // One byte more than granted: refused before its bytes are even read.
    server.feed(header(YamuxSession::Data, 0, 1, 1));
    QVERIFY(server.failed());
    const QByteArray output = server.takeOutput();
    QCOMPARE(output.right(12), header(YamuxSession::GoAway, 0, 0, YamuxSession::ProtocolError));
}

void TestYamuxSession::streamCapResetsExtraStreams()
{
    YamuxSession::Options options;
    options.maxStreams = 2;
    YamuxSession server(YamuxSession::Role::Server, options);
    for (quint32 id : {1u, 3u, 5u})
        server.feed(header(YamuxSession::WindowUpdate, YamuxSession::Syn, id, 0));
    QVERIFY(!server.failed());
    QCOMPARE(server.streamCount(), 2);
    QVERIFY(
        server.takeOutput().endsWith(header(YamuxSession::WindowUpdate, YamuxSession::Rst, 5, 0)));
}

void TestYamuxSession::pingIsAnswered()
{
    YamuxSession server(YamuxSession::Role::Server);
    server.feed(header(YamuxSession::Ping, YamuxSession::Syn, 0, 0x1234));
    QCOMPARE(server.takeOutput(), header(YamuxSession::Ping, YamuxSession::Ack, 0, 0x1234));
}

void TestYamuxSession::resetReachesThePeer()
{
    Pair pair;
    const quint32 id = pair.client.openStream();
    pair.pump();
    pair.server.reset(id);
    pair.pump();
    QVERIFY(has(pair.clientEvents, YamuxSession::Event::Reset, id));
    QVERIFY(!pair.client.hasStream(id));
}

void TestYamuxSession::wrongParitySynIsAProtocolError()
{
    YamuxSession server(YamuxSession::Role::Server);
    server.feed(header(YamuxSession::WindowUpdate, YamuxSession::Syn, 2, 0));
    QVERIFY(server.failed());
}

void TestYamuxSession::goAwayIsSeen()
{
    Pair pair;
    pair.client.goAway(YamuxSession::Normal);
    pair.pump();
    QVERIFY(pair.server.remoteWentAway());
    QCOMPARE(pair.client.openStream(), 0u);
}

QTEST_GUILESS_MAIN(TestYamuxSession)
#include "tst_yamuxsession.moc"
