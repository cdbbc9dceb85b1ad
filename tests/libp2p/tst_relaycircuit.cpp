#include "libp2p/identitykey.h"
#include "libp2p/libp2pconnection.h"
#include "libp2p/libp2phost.h"
#include "libp2p/relay/relaymessages.h"
#include "libp2p/relay/relayservice.h"

#include <QElapsedTimer>
#include <QTcpSocket>
#include <QTest>

using namespace RelayMessages;

// The relay on a real host over loopback, its clients our own connection code: a circuit
// carries what a fast source sends to a target that stops reading only as far as the
// target's window and the relay's small write-ahead allow, then all of it once it reads; a
// hop stream that asks nothing does not stay open.
class TestRelayCircuit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void slowTargetHoldsBackTheSource();
    void silentHopStreamIsReset();
};

namespace {

// The relay's host on a loopback port.
struct RelayHost
{
    IdentityKey key = IdentityKey::generate();
    std::shared_ptr<RelayService> relay;
    std::unique_ptr<Libp2pHost> host;

    std::optional<QString> start(const RelayLimits &limits)
    {
        relay = std::make_shared<RelayService>(key, limits);
        Libp2pHost::Options options;
        options.listen = {*Multiaddr::fromText(QStringLiteral("/ip4/127.0.0.1/tcp/0"))};
        options.protocols.emplace_back(hopProtocolId, relay->hopFactory());
        options.connectionClosed = [relay = relay](const PeerId &peer, const Multiaddr &remote) {
            relay->connectionClosed(peer, remote);
        };
        host = std::make_unique<Libp2pHost>(key, options);
        relay->setHost(host.get());
        return host->start();
    }
    Multiaddr address() const { return host->listenAddresses()[0]; }
};

// A client connection to the host; `registry` answers the streams the relay opens.
struct Client
{
    QTcpSocket socket;
    ProtocolRegistry registry;
    IdentityKey key = IdentityKey::generate();
    std::unique_ptr<Libp2pConnection> connection;

    PeerId peerId() const { return PeerId::fromPublicKey(key.publicKeyProtobuf()); }
    bool connect(const Multiaddr &address, const PeerId &expected)
    {
        const auto endpoint = address.tcpEndpoint();
        socket.connectToHost(endpoint->first, endpoint->second);
        if (!socket.waitForConnected(5000))
            return false;
        connection = std::make_unique<Libp2pConnection>(
            Libp2pConnection::Direction::Outbound, key, registry, address,
            [this](const QByteArray &bytes) { socket.write(bytes); }, Libp2pConnection::Options(),
            expected);
        QObject::connect(&socket, &QTcpSocket::readyRead,
                         [this] { connection->feed(socket.readAll()); });
        return QTest::qWaitFor(
            [this] { return connection->stage() >= Libp2pConnection::Stage::Ready; }, 5000);
    }
};

// One hop request and its STATUS answer; after an OK to a CONNECT, writes `payload` as fast
// as the stream takes it.
struct HopResult
{
    std::optional<HopMessage> answer;
    qsizetype taken = 0; // of the payload, by our Yamux
};

class HopClient : public StreamHandler
{
public:
    HopClient(std::shared_ptr<HopResult> result, HopMessage request, QByteArray payload = {})
        : m_result(std::move(result)), m_request(std::move(request)), m_payload(std::move(payload))
    {}
    void opened(Libp2pStream &stream) override { stream.write(frame(m_request.encode())); }
    void received(Libp2pStream &stream, const QByteArray &bytes) override
    {
        if (m_result->answer || m_reader.feed(bytes) != FrameReader::State::Ready)
            return;
        m_result->answer = HopMessage::decode(m_reader.message());
        drained(stream);
    }
    void drained(Libp2pStream &stream) override
    {
        while (m_result->taken < m_payload.size()) {
            const qsizetype taken = stream.write(m_payload.mid(m_result->taken, 64 * 1024));
            if (taken <= 0)
                return;
            m_result->taken += taken;
        }
    }

private:
    std::shared_ptr<HopResult> m_result;
    HopMessage m_request;
    QByteArray m_payload;
    FrameReader m_reader;
};

// The target's end: accepts the relay's CONNECT, then holds back its window until told.
struct TargetState
{
    Libp2pStream *stream = nullptr;
    QByteArray data;
    quint32 held = 0;
    bool reading = false;
};

class SlowTarget : public StreamHandler
{
public:
    explicit SlowTarget(std::shared_ptr<TargetState> state) : m_state(std::move(state)) {}
    ~SlowTarget() override { m_state->stream = nullptr; }
    void opened(Libp2pStream &stream) override
    {
        m_state->stream = &stream;
        stream.setManualFlowControl(true);
    }
    void received(Libp2pStream &stream, const QByteArray &bytes) override
    {
        if (m_accepted) {
            m_state->data += bytes;
            if (m_state->reading)
                stream.consumed(quint32(bytes.size()));
            else
                m_state->held += quint32(bytes.size());
            return;
        }
        stream.consumed(quint32(bytes.size()));
        if (m_reader.feed(bytes) != FrameReader::State::Ready)
            return;
        const auto connect = StopMessage::decode(m_reader.message());
        if (!connect || connect->type != StopMessage::Connect)
            return stream.reset();
        StopMessage ok;
        ok.type = StopMessage::StatusType;
        ok.status = Status::Ok;
        stream.write(frame(ok.encode()));
        m_accepted = true;
    }

private:
    std::shared_ptr<TargetState> m_state;
    FrameReader m_reader;
    bool m_accepted = false;
};

QByteArray randomBytes(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (char &byte : bytes)
        byte = char(std::rand());
    return bytes;
}

} // namespace

void TestRelayCircuit::slowTargetHoldsBackTheSource()
{
    RelayHost relayHost;
    const auto error = relayHost.start(RelayLimits());
    QVERIFY2(!error, qPrintable(error.value_or(QString())));
    const Multiaddr address = relayHost.address();
    const auto &relay = relayHost.relay;
    const PeerId relayPeer = relayHost.host->peerId();

    Client target;
    auto targetState = std::make_shared<TargetState>();
    target.registry.add(stopProtocolId,
                        [targetState] { return std::make_unique<SlowTarget>(targetState); });
    QVERIFY(target.connect(address, relayPeer));
    auto reserved = std::make_shared<HopResult>();
    target.connection->openStream({hopProtocolId},
                                  std::make_unique<HopClient>(reserved, HopMessage{}));
    QTRY_VERIFY(reserved->answer);
    QCOMPARE(*reserved->answer->status, Status::Ok);
    QCOMPARE(relay->reservationCount(), 1);

    Client source;
    QVERIFY(source.connect(address, relayPeer));
    const QByteArray payload = randomBytes(4 * 1024 * 1024);
    HopMessage connect;
    connect.type = HopMessage::Connect;
    connect.peer = Peer{target.peerId().bytes(), {}};
    auto circuit = std::make_shared<HopResult>();
    source.connection->openStream({hopProtocolId},
                                  std::make_unique<HopClient>(circuit, connect, payload));
    QTRY_VERIFY(circuit->answer);
    QCOMPARE(*circuit->answer->status, Status::Ok);
    QCOMPARE(*circuit->answer->limit->data, quint64(16 * 1024 * 1024));
    QCOMPARE(relay->circuitCount(), 1);

    // The target reads nothing: what the source gets rid of stops at the target's window, the
    // relay's write-ahead, the window the relay holds back from the source and the source's
    // own unsent bytes, 256 + 16 + 256 + 256 KiB.
    QTest::qWait(1000);
    const qsizetype bound = (3 * 256 + 16) * 1024;
    QVERIFY2(circuit->taken <= bound, qPrintable(QString::number(circuit->taken)));
    QVERIFY2(targetState->data.size() <= 256 * 1024,
             qPrintable(QString::number(targetState->data.size())));
    qInfo("with the target not reading: %lld bytes left the source, %lld reached the target",
          qlonglong(circuit->taken), qlonglong(targetState->data.size()));

    // Once it reads, all of it comes, in order.
    targetState->reading = true;
    QVERIFY(targetState->stream);
    targetState->stream->consumed(std::exchange(targetState->held, 0));
    QTRY_COMPARE_WITH_TIMEOUT(targetState->data.size(), payload.size(), 20000);
    QVERIFY(targetState->data == payload);
    const RelayStats stats = relay->stats();
    QCOMPARE(stats.reservationsGranted, 1u);
    QCOMPARE(stats.circuitsOpened, 1u);
    QCOMPARE(stats.circuitsRefused, 0u);
    QCOMPARE(stats.bytesRelayed, quint64(payload.size()));

    source.socket.disconnectFromHost();
    QTRY_COMPARE(relay->circuitCount(), 0);
    target.socket.disconnectFromHost();
    QTRY_COMPARE(relay->reservationCount(), 0);
}

namespace {

// A hop client that never asks anything; it hears when its stream ends.
class SilentClient : public StreamHandler
{
public:
    explicit SilentClient(std::shared_ptr<bool> ended) : m_ended(std::move(ended)) {}
    ~SilentClient() override { *m_ended = true; }
    void received(Libp2pStream &, const QByteArray &) override {}
    void remoteClosed(Libp2pStream &) override {} // keeps its side open

private:
    std::shared_ptr<bool> m_ended;
};

} // namespace

void TestRelayCircuit::silentHopStreamIsReset()
{
    RelayLimits limits;
    limits.requestTimeout = std::chrono::milliseconds(500);
    RelayHost relayHost;
    const auto error = relayHost.start(limits);
    QVERIFY2(!error, qPrintable(error.value_or(QString())));

    Client client;
    QVERIFY(client.connect(relayHost.address(), relayHost.host->peerId()));
    // A reservation first, so that the connection is kept without any stream open.
    auto reserved = std::make_shared<HopResult>();
    client.connection->openStream({hopProtocolId},
                                  std::make_unique<HopClient>(reserved, HopMessage{}));
    QTRY_VERIFY(reserved->answer);
    QTRY_COMPARE(client.connection->streamCount(), 0);

    auto silentEnded = std::make_shared<bool>(false);
    QElapsedTimer opened;
    opened.start();
    client.connection->openStream({hopProtocolId}, std::make_unique<SilentClient>(silentEnded));
    QTest::qWait(200);
    QCOMPARE(client.connection->streamCount(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(*silentEnded, 5000);
    QVERIFY2(opened.elapsed() >= 400, qPrintable(QString::number(opened.elapsed())));
    QCOMPARE(client.connection->streamCount(), 0);
    // The connection itself stays: it holds a reservation.
    QCOMPARE(client.socket.state(), QAbstractSocket::ConnectedState);
    QCOMPARE(relayHost.relay->reservationCount(), 1);
}

QTEST_GUILESS_MAIN(TestRelayCircuit)
#include "tst_relaycircuit.moc"
