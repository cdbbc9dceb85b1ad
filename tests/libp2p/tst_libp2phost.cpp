#include "libp2p/identifymessage.h"
#include "libp2p/identifyservice.h"
#include "libp2p/libp2pconnection.h"
#include "libp2p/libp2phost.h"
#include "libp2p/pinghandler.h"
#include "libp2p/threadcryptostate.h"
#include "libp2p/varint.h"

#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <deque>
#include <openssl/err.h>

// Whole connections: two of ours back to back, then the host on its thread over loopback,
// dialled by our own connection code.
class TestLibp2pHost : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void connectionsBackToBack();
    void unknownProtocolIsRefused();
    void answerToAHalfClosedRequestArrives();
    void hostAnswersPingAndIdentify();
    void hostClosesSilentConnections();
    void hostCapsConnections();
    void hostRefusesBadListenAddress();
    void threadCryptoStateIsReleased();
};

namespace {

// What a stream received; it outlives the stream's handler, which goes with the stream.
struct Collected
{
    bool agreed = false;
    bool closed = false;
    QByteArray data;
};

// Collects what a stream receives until the peer closes it.
class Collector : public StreamHandler
{
public:
    Collector(std::shared_ptr<Collected> result, QByteArray toSend = {},
              bool closeAfterSending = false)
        : m_result(std::move(result)), m_toSend(std::move(toSend)),
          m_closeAfterSending(closeAfterSending)
    {}
    void opened(Libp2pStream &stream) override
    {
        m_result->agreed = true;
        if (!m_toSend.isEmpty())
            stream.write(m_toSend);
        if (m_closeAfterSending)
            stream.closeWrite();
    }
    void received(Libp2pStream &, const QByteArray &bytes) override { m_result->data += bytes; }
    void remoteClosed(Libp2pStream &stream) override
    {
        m_result->closed = true;
        stream.closeWrite();
    }

private:
    std::shared_ptr<Collected> m_result;
    QByteArray m_toSend;
    bool m_closeAfterSending;
};

// Two connections joined by queues, so that neither calls into the other from its send.
struct BackToBack
{
    const IdentityKey serverKey = IdentityKey::generate();
    const IdentityKey clientKey = IdentityKey::generate();
    ProtocolRegistry registry;
    ProtocolRegistry none;
    IdentifyService identify{serverKey, "goop-test/1", registry, [] {
                                 return QList<Multiaddr>{
                                     *Multiaddr::fromText(QStringLiteral("/ip4/1.2.3.4/tcp/1"))};
                             }};
    std::deque<QByteArray> toServer;
    std::deque<QByteArray> toClient;
    Libp2pConnection server{Libp2pConnection::Direction::Inbound, serverKey, registry,
                            *Multiaddr::fromText(QStringLiteral("/ip4/5.6.7.8/tcp/9")),
                            [this](const QByteArray &b) { toClient.push_back(b); }};
    Libp2pConnection client{Libp2pConnection::Direction::Outbound,
                            clientKey,
                            none,
                            *Multiaddr::fromText(QStringLiteral("/ip4/1.2.3.4/tcp/1")),
                            [this](const QByteArray &b) { toServer.push_back(b); },
                            {},
                            PeerId::fromPublicKey(serverKey.publicKeyProtobuf())};

    BackToBack()
    {
        registry.add(PingHandler::protocolId, [] { return std::make_unique<PingHandler>(); });
        registry.add(IdentifyMessage::protocolId, [this] { return identify.handler(); });
    }
    void pump()
    {
        for (int round = 0; round < 1000 && (!toServer.empty() || !toClient.empty()); ++round) {
            while (!toServer.empty()) {
                const QByteArray bytes = toServer.front();
                toServer.pop_front();
                server.feed(bytes);
            }
            while (!toClient.empty()) {
                const QByteArray bytes = toClient.front();
                toClient.pop_front();
                client.feed(bytes);
            }
        }
    }
};

QByteArray randomBytes(int size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (char &byte : bytes)
        byte = char(std::rand());
    return bytes;
}

// Strips identify's varint length prefix.
std::optional<IdentifyMessage> identifyFrom(const QByteArray &bytes)
{
    const Varint::Decoded length = Varint::decode(bytes);
    if (length.status != Varint::Status::Ok ||
        length.value != quint64(bytes.size() - length.length))
        return std::nullopt;
    return IdentifyMessage::decode(bytes.mid(length.length));
}

} // namespace

void TestLibp2pHost::connectionsBackToBack()
{
    BackToBack pair;
    pair.pump();
    QCOMPARE(pair.client.stage(), Libp2pConnection::Stage::Ready);
    QCOMPARE(pair.server.stage(), Libp2pConnection::Stage::Ready);
    QCOMPARE(*pair.server.remotePeer(), PeerId::fromPublicKey(pair.clientKey.publicKeyProtobuf()));

    const QByteArray ping = randomBytes(64); // two pings at once
    auto pingResult = std::make_shared<Collected>();
    auto pinger = std::make_unique<Collector>(pingResult, ping);
    QVERIFY(pair.client.openStream({PingHandler::protocolId}, std::move(pinger)));
    auto identifyResult = std::make_shared<Collected>();
    auto identifier = std::make_unique<Collector>(identifyResult);
    QVERIFY(pair.client.openStream({IdentifyMessage::protocolId}, std::move(identifier)));
    pair.pump();
    QVERIFY(pingResult->agreed);
    QCOMPARE(pingResult->data, ping);
    QVERIFY(identifyResult->closed);
    const auto message = identifyFrom(identifyResult->data);
    QVERIFY(message);
    QCOMPARE(message->agentVersion, QByteArray("goop-test/1"));
    QCOMPARE(message->protocolVersion, QByteArray("ipfs/0.1.0"));
    QCOMPARE(message->publicKey, pair.serverKey.publicKeyProtobuf());
    QCOMPARE(Multiaddr::fromBytes(message->observedAddr)->toText(),
             QStringLiteral("/ip4/5.6.7.8/tcp/9"));
    QCOMPARE(Multiaddr::fromBytes(message->listenAddrs.value(0))->toText(),
             QStringLiteral("/ip4/1.2.3.4/tcp/1"));
    QVERIFY(message->protocols.contains("/ipfs/ping/1.0.0"));
    QVERIFY(message->protocols.contains("/ipfs/id/1.0.0"));
    // The identify stream is gone on both sides once both closed it.
    QCOMPARE(pair.server.streamCount(), 1);
}

void TestLibp2pHost::unknownProtocolIsRefused()
{
    BackToBack pair;
    pair.pump();
    auto result = std::make_shared<Collected>();
    auto handler = std::make_unique<Collector>(result);
    QVERIFY(pair.client.openStream({"/nope/1.0.0"}, std::move(handler)));
    pair.pump();
    QVERIFY(!result->agreed);
    QCOMPARE(pair.client.streamCount(), 0);
    QCOMPARE(pair.client.stage(), Libp2pConnection::Stage::Ready); // the connection lives on
}

// A request with its FIN right behind it, as many clients send one (write, close, read): the
// answer and the peer's FIN come back in one read, after which Yamux has let go of the stream,
// and the answer must still reach the handler.
void TestLibp2pHost::answerToAHalfClosedRequestArrives()
{
    BackToBack pair;
    pair.pump();
    const QByteArray ping = randomBytes(32);
    auto result = std::make_shared<Collected>();
    QVERIFY(pair.client.openStream({PingHandler::protocolId},
                                   std::make_unique<Collector>(result, ping, true)));
    pair.pump();
    QCOMPARE(result->data, ping);
    QVERIFY(result->closed);
    QCOMPARE(pair.client.streamCount(), 0);
    QCOMPARE(pair.server.streamCount(), 0);
}

namespace {

// A protocol registered through the host's options: sends back what it gets, reversed.
class Reverser : public StreamHandler
{
public:
    void received(Libp2pStream &stream, const QByteArray &bytes) override
    {
        QByteArray reversed = bytes;
        std::reverse(reversed.begin(), reversed.end());
        stream.write(reversed);
    }
};

// Our own outbound connection over a real socket to the host.
struct Dialer
{
    QTcpSocket socket;
    ProtocolRegistry none;
    std::unique_ptr<Libp2pConnection> connection;

    bool connect(const Multiaddr &address, const PeerId &expected, const IdentityKey &key)
    {
        const auto endpoint = address.tcpEndpoint();
        socket.connectToHost(endpoint->first, endpoint->second);
        if (!socket.waitForConnected(5000))
            return false;
        connection = std::make_unique<Libp2pConnection>(
            Libp2pConnection::Direction::Outbound, key, none, address,
            [this](const QByteArray &bytes) { socket.write(bytes); }, Libp2pConnection::Options(),
            expected);
        QObject::connect(&socket, &QTcpSocket::readyRead,
                         [this] { connection->feed(socket.readAll()); });
        return QTest::qWaitFor(
            [this] { return connection->stage() >= Libp2pConnection::Stage::Ready; }, 5000);
    }
};

} // namespace

void TestLibp2pHost::hostAnswersPingAndIdentify()
{
    const IdentityKey hostKey = IdentityKey::generate();
    Libp2pHost::Options options;
    options.listen = {*Multiaddr::fromText(QStringLiteral("/ip4/127.0.0.1/tcp/0"))};
    options.announce = {*Multiaddr::fromText(QStringLiteral("/dns4/relay.example.org/tcp/4001"))};
    options.agentVersion = "goop-rendezvous/test";
    options.protocols.emplace_back("/goop/test/reverse/1.0.0",
                                   [] { return std::make_unique<Reverser>(); });
    Libp2pHost host(hostKey, options);
    const auto error = host.start();
    QVERIFY2(!error, qPrintable(error.value_or(QString())));
    QCOMPARE(host.listenAddresses().size(), size_t(1));
    QVERIFY(host.listenAddresses()[0].tcpEndpoint()->second != 0);

    Dialer dialer;
    QVERIFY(dialer.connect(host.listenAddresses()[0], host.peerId(), IdentityKey::generate()));
    QCOMPARE(dialer.connection->stage(), Libp2pConnection::Stage::Ready);
    QTRY_COMPARE(host.connectionCount(), 1);

    const QByteArray ping = randomBytes(32);
    auto pingResult = std::make_shared<Collected>();
    auto pinger = std::make_unique<Collector>(pingResult, ping);
    dialer.connection->openStream({PingHandler::protocolId}, std::move(pinger));
    auto identifyResult = std::make_shared<Collected>();
    auto identifier = std::make_unique<Collector>(identifyResult);
    dialer.connection->openStream({IdentifyMessage::protocolId}, std::move(identifier));
    auto reverseResult = std::make_shared<Collected>();
    dialer.connection->openStream({"/goop/test/reverse/1.0.0"},
                                  std::make_unique<Collector>(reverseResult, "abc"));
    QTRY_COMPARE(pingResult->data, ping);
    QTRY_VERIFY(identifyResult->closed);
    QTRY_COMPARE(reverseResult->data, QByteArray("cba"));
    const auto message = identifyFrom(identifyResult->data);
    QVERIFY(message);
    QCOMPARE(message->agentVersion, QByteArray("goop-rendezvous/test"));
    QCOMPARE(Multiaddr::fromBytes(message->listenAddrs.value(0))->toText(),
             QStringLiteral("/dns4/relay.example.org/tcp/4001"));
    QCOMPARE(Multiaddr::fromBytes(message->observedAddr)->toText(),
             QStringLiteral("/ip4/127.0.0.1/tcp/%1").arg(dialer.socket.localPort()));

    dialer.socket.disconnectFromHost();
    QTRY_COMPARE(host.connectionCount(), 0);
}

void TestLibp2pHost::hostClosesSilentConnections()
{
    Libp2pHost::Options options;
    options.listen = {*Multiaddr::fromText(QStringLiteral("/ip4/127.0.0.1/tcp/0"))};
    options.handshakeTimeout = std::chrono::milliseconds(300);
    Libp2pHost host(IdentityKey::generate(), options);
    QVERIFY(!host.start());
    QTcpSocket silent;
    const auto endpoint = host.listenAddresses()[0].tcpEndpoint();
    silent.connectToHost(endpoint->first, endpoint->second);
    QVERIFY(silent.waitForConnected(5000));
    QTRY_COMPARE(host.connectionCount(), 1);
    // Within the timeout and the sweep's second, the host hangs up.
    QTRY_COMPARE_WITH_TIMEOUT(silent.state(), QAbstractSocket::UnconnectedState, 5000);
    QCOMPARE(host.connectionCount(), 0);
    // What it said before: only its multistream-select header.
    QCOMPARE(silent.readAll(), QByteArray("\x13/multistream/1.0.0\n"));
}

void TestLibp2pHost::hostCapsConnections()
{
    Libp2pHost::Options options;
    options.listen = {*Multiaddr::fromText(QStringLiteral("/ip4/127.0.0.1/tcp/0"))};
    options.maxConnections = 1;
    Libp2pHost host(IdentityKey::generate(), options);
    QVERIFY(!host.start());
    const auto endpoint = host.listenAddresses()[0].tcpEndpoint();
    QTcpSocket first;
    first.connectToHost(endpoint->first, endpoint->second);
    QVERIFY(first.waitForConnected(5000));
    QTRY_COMPARE(host.connectionCount(), 1);
    QTcpSocket second;
    second.connectToHost(endpoint->first, endpoint->second);
    QTRY_COMPARE_WITH_TIMEOUT(second.state(), QAbstractSocket::UnconnectedState, 5000);
    QCOMPARE(first.state(), QAbstractSocket::ConnectedState);
    QCOMPARE(host.connectionCount(), 1);
}

void TestLibp2pHost::hostRefusesBadListenAddress()
{
    Libp2pHost::Options options;
    options.listen = {*Multiaddr::fromText(QStringLiteral("/dns4/example.org/tcp/1"))};
    Libp2pHost host(IdentityKey::generate(), options);
    const auto error = host.start();
    QVERIFY(error);
    QVERIFY2(error->contains(QLatin1String("cannot listen on /dns4/example.org/tcp/1")),
             qPrintable(*error));
}

// The host and HTTP threads release OpenSSL's state for their thread before they report
// finished; a thread's error queue is part of that state, so after the release it is empty.
void TestLibp2pHost::threadCryptoStateIsReleased()
{
    unsigned long queuedBefore = 0;
    unsigned long queuedAfter = 0;
    std::unique_ptr<QThread> thread(QThread::create([&] {
        ERR_raise(ERR_LIB_EVP, ERR_R_PASSED_NULL_PARAMETER);
        queuedBefore = ERR_peek_error();
        releaseThreadCryptoState();
        queuedAfter = ERR_peek_error();
        releaseThreadCryptoState(); // the look made a fresh state, which must not outlive us
    }));
    thread->start();
    QVERIFY(thread->wait(10000));
    QVERIFY(queuedBefore != 0);
    QCOMPARE(queuedAfter, 0ul);
}

QTEST_GUILESS_MAIN(TestLibp2pHost)
#include "tst_libp2phost.moc"
