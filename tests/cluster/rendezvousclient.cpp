#include "rendezvousclient.h"

#include "libp2p/libp2pstream.h"
#include "libp2p/peerrecord.h"
#include "libp2p/signedenvelope.h"
#include "libp2p/varint.h"

#include <QDateTime>
#include <QTest>

namespace {

struct Exchange
{
    QByteArray request;
    QByteArray received;
    bool closed = false;
};

// Sends one length-prefixed message, closes its side and collects what comes back.
class OneRequest : public StreamHandler
{
public:
    explicit OneRequest(std::shared_ptr<Exchange> exchange) : m_exchange(std::move(exchange)) {}
    void opened(Libp2pStream &stream) override
    {
        stream.write(Varint::encode(quint64(m_exchange->request.size())) + m_exchange->request);
        stream.closeWrite();
    }
    void received(Libp2pStream &, const QByteArray &bytes) override
    {
        m_exchange->received += bytes;
    }
    void remoteClosed(Libp2pStream &) override { m_exchange->closed = true; }

private:
    std::shared_ptr<Exchange> m_exchange;
};

// A whole length-prefixed message at the start of `bytes`, if there is one.
std::optional<QByteArray> wholeMessage(const QByteArray &bytes)
{
    const Varint::Decoded length = Varint::decode(bytes);
    if (length.status != Varint::Status::Ok ||
        bytes.size() - length.length < qsizetype(length.value))
        return std::nullopt;
    return bytes.mid(length.length, qsizetype(length.value));
}

} // namespace

RendezvousClient::RendezvousClient() : m_key(IdentityKey::generate()) {}

RendezvousClient::~RendezvousClient()
{
    m_socket.disconnect();
    m_connection.reset();
}

PeerId RendezvousClient::peerId() const
{
    return PeerId::fromPublicKey(m_key.publicKeyProtobuf());
}

bool RendezvousClient::connect(const QString &address)
{
    const qsizetype p2p = address.indexOf(QLatin1String("/p2p/"));
    const auto multiaddr = Multiaddr::fromText(address.left(p2p));
    if (!multiaddr || p2p < 0)
        return false;
    const auto expected = PeerId::fromText(address.mid(p2p + 5));
    const auto endpoint = multiaddr->tcpEndpoint();
    if (!expected || !endpoint)
        return false;
    m_socket.connectToHost(endpoint->first, endpoint->second);
    if (!m_socket.waitForConnected(5000))
        return false;
    m_connection = std::make_unique<Libp2pConnection>(
        Libp2pConnection::Direction::Outbound, m_key, m_none, *multiaddr,
        [this](const QByteArray &bytes) { m_socket.write(bytes); }, Libp2pConnection::Options(),
        *expected);
    QObject::connect(&m_socket, &QTcpSocket::readyRead,
                     [this] { m_connection->feed(m_socket.readAll()); });
    return QTest::qWaitFor(
        [this] { return m_connection->stage() >= Libp2pConnection::Stage::Ready; }, 5000);
}

std::optional<RendezvousMessage> RendezvousClient::exchange(const RendezvousMessage &request,
                                                            bool answered)
{
    auto exchange = std::make_shared<Exchange>();
    exchange->request = request.encode();
    m_connection->openStream({"/rendezvous/1.0.0"}, std::make_unique<OneRequest>(exchange));
    if (!answered) {
        // The spec has no answer to it: the instance closing its side is all there is to wait for.
        (void)QTest::qWaitFor([&] { return exchange->closed; }, 2000);
        return std::nullopt;
    }
    if (!QTest::qWaitFor([&] { return wholeMessage(exchange->received).has_value(); }, 5000))
        return std::nullopt;
    return RendezvousMessage::decode(*wholeMessage(exchange->received));
}

std::optional<RendezvousMessage::Status> RendezvousClient::registerIn(const QString &ns,
                                                                      qint64 ttlSeconds)
{
    PeerRecord record;
    record.peerId = peerId();
    record.seq = quint64(QDateTime::currentMSecsSinceEpoch());
    record.addresses = {*Multiaddr::fromText(QStringLiteral("/ip4/192.0.2.7/tcp/4001"))};
    RendezvousMessage request;
    request.type = RendezvousMessage::Register;
    request.registration = RendezvousMessage::Registration{
        ns,
        SignedEnvelope::seal(m_key, PeerRecord::domain, PeerRecord::payloadType(), record.encode()),
        ttlSeconds};
    const auto answer = exchange(request, true);
    if (!answer || !answer->registerResult)
        return std::nullopt;
    return answer->registerResult->status;
}

void RendezvousClient::unregisterFrom(const QString &ns)
{
    RendezvousMessage request;
    request.type = RendezvousMessage::Unregister;
    request.unregistration = RendezvousMessage::Unregistration{ns, peerId().bytes()};
    exchange(request, false);
}

std::optional<QStringList> RendezvousClient::discover(const QString &ns)
{
    RendezvousMessage request;
    request.type = RendezvousMessage::Discover;
    request.query = RendezvousMessage::Query{ns, std::nullopt, {}};
    const auto answer = exchange(request, true);
    if (!answer || !answer->queryResult || answer->queryResult->status != RendezvousMessage::Ok)
        return std::nullopt;
    QStringList peers;
    for (const RendezvousMessage::Registration &registration : answer->queryResult->registrations) {
        const auto envelope =
            SignedEnvelope::open(registration.signedPeerRecord, PeerRecord::domain);
        const auto record = envelope ? PeerRecord::decode(envelope->payload) : std::nullopt;
        if (!record || record->peerId != envelope->signer())
            return std::nullopt;
        peers.append(record->peerId.toText());
    }
    return peers;
}
