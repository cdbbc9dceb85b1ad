#include "relayservice.h"

#include "circuit.h"
#include "hophandler.h"
#include "libp2p/libp2phost.h"
#include "libp2p/libp2pstream.h"
#include "reservationvoucher.h"
#include "stophandler.h"

#include <QDateTime>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcRelay, "goop.server.libp2p.relay")

using namespace RelayMessages;

namespace {

qint64 unixNow()
{
    return QDateTime::currentSecsSinceEpoch();
}

} // namespace

RelayService::RelayService(const IdentityKey &identity, const RelayLimits &limits)
    : m_identity(identity), m_peerId(PeerId::fromPublicKey(identity.publicKeyProtobuf())),
      m_limits(limits), m_reservations(m_limits), m_circuits(m_limits)
{}

ProtocolRegistry::Factory RelayService::hopFactory()
{
    std::weak_ptr<RelayService> weak = weak_from_this();
    return [weak]() -> std::unique_ptr<StreamHandler> {
        const auto service = weak.lock();
        if (!service)
            return nullptr;
        return std::make_unique<HopHandler>(service);
    };
}

void RelayService::publishCounts()
{
    m_reservationCount = m_reservations.count();
    m_circuitCount = m_circuits.count();
}

RelayStats RelayService::stats() const
{
    RelayStats stats;
    stats.reservations = m_reservationCount;
    stats.circuits = m_circuitCount;
    stats.reservationsGranted = m_reservationsGranted.load(relaxed);
    stats.reservationsRefused = m_reservationsRefused.load(relaxed);
    stats.circuitsOpened = m_circuitsOpened.load(relaxed);
    stats.circuitsRefused = m_circuitsRefused.load(relaxed);
    stats.circuitsLimited = m_circuitsLimited.load(relaxed);
    stats.bytesRelayed = m_bytesRelayed.load(relaxed);
    return stats;
}

void RelayService::count(CircuitOutcome outcome)
{
    switch (outcome) {
    case CircuitOutcome::Opened:
        m_circuitsOpened.fetch_add(1, relaxed);
        break;
    case CircuitOutcome::Refused:
        m_circuitsRefused.fetch_add(1, relaxed);
        break;
    case CircuitOutcome::Limited:
        m_circuitsLimited.fetch_add(1, relaxed);
        break;
    }
}

void RelayService::connectionClosed(const PeerId &peer, const Multiaddr &remote)
{
    m_reservations.connectionClosed(peer, remote);
    publishCounts();
}

bool RelayService::holdsReservation(const PeerId &peer, const Multiaddr &remote) const
{
    return m_reservations.holdsConnection(peer, remote, unixNow());
}

std::optional<Limit> RelayService::limitMessage() const
{
    if (m_limits.circuitDuration.count() == 0 && m_limits.circuitBytes == 0)
        return std::nullopt;
    Limit limit;
    if (m_limits.circuitDuration.count() > 0)
        limit.duration = quint32(m_limits.circuitDuration.count());
    if (m_limits.circuitBytes > 0)
        limit.data = m_limits.circuitBytes;
    return limit;
}

HopMessage RelayService::reserve(const Libp2pStream &stream)
{
    HopMessage answer;
    answer.type = HopMessage::StatusType;
    const PeerId peer = stream.remotePeer();
    const Multiaddr remote = stream.remoteAddress();
    const auto endpoint = remote.tcpEndpoint();
    const auto expires = m_reservations.reserve(
        peer, remote, endpoint ? endpoint->first : QHostAddress(), unixNow());
    publishCounts();
    (expires ? m_reservationsGranted : m_reservationsRefused).fetch_add(1, relaxed);
    if (!expires) {
        qCInfo(lcRelay, "reservation refused to %s from %s (%d held)", qPrintable(peer.toText()),
               qPrintable(remote.toText()), m_reservations.count());
        answer.status = Status::ReservationRefused;
        return answer;
    }
    Reservation reservation;
    reservation.expire = quint64(*expires);
    // The relay's public addresses with its peer ID, to which a client adds /p2p-circuit.
    const QString suffix = QStringLiteral("/p2p/") + m_peerId.toText();
    for (const Multiaddr &address :
         m_host ? m_host->advertisedAddresses() : std::vector<Multiaddr>())
        if (const auto full = Multiaddr::fromText(address.toText() + suffix))
            reservation.addrs.push_back(full->toBytes());
    reservation.voucher =
        ReservationVoucher{m_peerId.bytes(), peer.bytes(), quint64(*expires)}.seal(m_identity);
    answer.status = Status::Ok;
    answer.reservation = reservation;
    answer.limit = limitMessage();
    qCDebug(lcRelay, "reservation for %s until %lld", qPrintable(peer.toText()), *expires);
    return answer;
}

std::shared_ptr<Circuit> RelayService::connect(Libp2pStream &stream, const HopMessage &request,
                                               Status *refusal)
{
    // Refusals from here on; a circuit counts its own once it exists.
    const auto refuse = [this, refusal](Status status) {
        *refusal = status;
        count(CircuitOutcome::Refused);
        return nullptr;
    };
    const auto target = request.peer ? PeerId::fromBytes(request.peer->id) : std::nullopt;
    if (!target)
        return refuse(Status::MalformedMessage);
    const PeerId source = stream.remotePeer();
    if (*target == source)
        return refuse(Status::PermissionDenied);
    const auto connection = m_reservations.reservedConnection(*target, unixNow());
    if (!connection)
        return refuse(Status::NoReservation);
    if (!m_circuits.tryOpen(source, *target)) {
        qCInfo(lcRelay, "circuit %s -> %s refused: %d circuits, %d and %d for these peers",
               qPrintable(source.toText()), qPrintable(target->toText()), m_circuits.count(),
               m_circuits.countFor(source), m_circuits.countFor(*target));
        return refuse(Status::ResourceLimitExceeded);
    }
    publishCounts();
    auto circuit = std::make_shared<Circuit>(shared_from_this(), source, *target);
    StopMessage connect;
    connect.type = StopMessage::Connect;
    connect.peer = Peer{source.bytes(), {}};
    connect.limit = limitMessage();
    Libp2pStream *stop = m_host
                             ? m_host->openStream(*target, connection, {QByteArray(stopProtocolId)},
                                                  std::make_unique<StopHandler>(circuit, connect))
                             : nullptr;
    if (!stop) {
        // The stop handler is gone and has ended the circuit; the hop handler answers.
        *refusal = Status::ConnectionFailed;
        return nullptr;
    }
    // Attached only now, so that a failed open above answers the source once.
    circuit->attach(Circuit::Source, stream);
    // The source's bytes wait, unconsumed, until the target accepts: its window bounds them.
    stream.setManualFlowControl(true);
    return circuit;
}

void RelayService::circuitEnded(const Circuit &circuit)
{
    m_circuits.close(circuit.source(), circuit.target());
    publishCounts();
}
