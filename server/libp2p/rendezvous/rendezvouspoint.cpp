#include "rendezvouspoint.h"

#include "libp2p/peerrecord.h"
#include "libp2p/signedenvelope.h"
#include "rendezvousstreamhandler.h"

#include <QDateTime>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcRendezvous, "goop.server.libp2p.rendezvous")

namespace {

using Message = RendezvousMessage;

Message::RegisterResult refused(Message::Status status, const QString &text)
{
    Message::RegisterResult result;
    result.status = status;
    result.statusText = text;
    return result;
}

} // namespace

RendezvousPoint::RendezvousPoint(Options options, RegistrationStore::Clock clock)
    : m_options(options), m_store(options.limits, std::move(clock))
{}

ProtocolRegistry::Factory RendezvousPoint::handlerFactory()
{
    return [this] { return std::make_unique<RendezvousStreamHandler>(*this); };
}

std::optional<RendezvousMessage> RendezvousPoint::handle(const RendezvousMessage &request,
                                                         const PeerId &remote)
{
    Message answer;
    switch (request.type) {
    case Message::Register: {
        answer.type = Message::RegisterResponse;
        answer.registerResult =
            registerPeer(request.registration.value_or(Message::Registration()), remote);
        QMutexLocker locker(&m_statsMutex);
        ++m_stats.registers;
        return answer;
    }
    case Message::Unregister: {
        // Only the peer itself: whatever ID the message names, it is the remote peer that goes.
        if (request.unregistration) {
            for (const QString &ns : m_store.remove(request.unregistration->ns, remote)) {
                if (m_sharing.unregistered)
                    m_sharing.unregistered(ns, remote);
            }
        }
        QMutexLocker locker(&m_statsMutex);
        ++m_stats.unregisters;
        return std::nullopt;
    }
    case Message::Discover: {
        answer.type = Message::DiscoverResponse;
        answer.queryResult = discover(request.query.value_or(Message::Query()));
        QMutexLocker locker(&m_statsMutex);
        ++m_stats.discovers;
        return answer;
    }
    default:
        return std::nullopt;
    }
}

RendezvousMessage::RegisterResult
RendezvousPoint::registerPeer(const RendezvousMessage::Registration &request, const PeerId &remote)
{
    const auto refuse = [this](Message::Status status, const QString &text) {
        countRefusal(status);
        return refused(status, text);
    };
    const int namespaceBytes = int(request.ns.toUtf8().size());
    if (namespaceBytes == 0 || namespaceBytes > m_options.maxNamespaceBytes)
        return refuse(Message::InvalidNamespace,
                      QStringLiteral("the namespace must have 1 to %1 bytes")
                          .arg(m_options.maxNamespaceBytes));
    // proto3 writers cannot tell 0 from absent: both mean the default.
    const std::chrono::seconds ttl =
        request.ttl.value_or(0) == 0 ? m_options.defaultTtl : std::chrono::seconds(*request.ttl);
    if (ttl < m_options.minTtl || ttl > m_options.maxTtl)
        return refuse(Message::InvalidTtl, QStringLiteral("the TTL must be %1 to %2 seconds")
                                               .arg(m_options.minTtl.count())
                                               .arg(m_options.maxTtl.count()));
    if (request.signedPeerRecord.size() > m_options.maxSignedPeerRecordBytes)
        return refuse(Message::InvalidSignedPeerRecord,
                      QStringLiteral("the signed peer record is too large"));

    QString error;
    const auto envelope =
        SignedEnvelope::open(request.signedPeerRecord, PeerRecord::domain, &error);
    if (!envelope)
        return refuse(Message::InvalidSignedPeerRecord, error);
    if (envelope->payloadType != PeerRecord::payloadType())
        return refuse(Message::InvalidSignedPeerRecord,
                      QStringLiteral("the envelope does not hold a peer record"));
    const auto record = PeerRecord::decode(envelope->payload);
    if (!record)
        return refuse(Message::InvalidSignedPeerRecord, QStringLiteral("malformed peer record"));
    if (record->peerId != envelope->signer())
        return refuse(Message::InvalidSignedPeerRecord,
                      QStringLiteral("the peer record is not its signer's"));
    if (envelope->signer() != remote)
        return refuse(Message::NotAuthorized, QStringLiteral("a peer may register only itself"));

    RegistrationStore::Registration registration;
    registration.ns = request.ns;
    registration.peer = remote;
    registration.addresses = record->addresses;
    registration.signedPeerRecord = request.signedPeerRecord;
    registration.recordSeq = record->seq;
    SharedRegistration shared;
    shared.ns = registration.ns;
    shared.peer = remote;
    shared.signedPeerRecord = registration.signedPeerRecord;
    shared.recordSeq = registration.recordSeq;
    shared.expiresAtMs =
        QDateTime::currentMSecsSinceEpoch() + std::chrono::milliseconds(ttl).count();
    switch (m_store.add(std::move(registration), ttl)) {
    case RegistrationStore::Outcome::Added:
    case RegistrationStore::Outcome::Refreshed:
        if (m_sharing.registered)
            m_sharing.registered(shared);
        break;
    case RegistrationStore::Outcome::Unchanged: // only for shared ones
        break;
    case RegistrationStore::Outcome::StaleRecord:
        return refuse(Message::InvalidSignedPeerRecord,
                      QStringLiteral("an older peer record than the registered one"));
    case RegistrationStore::Outcome::PeerFull:
        return refuse(Message::NotAuthorized,
                      QStringLiteral("too many registrations for this peer"));
    case RegistrationStore::Outcome::NamespaceFull:
        return refuse(Message::Unavailable, QStringLiteral("this namespace is full"));
    case RegistrationStore::Outcome::StoreFull:
        return refuse(Message::Unavailable, QStringLiteral("the rendezvous point is full"));
    }
    Message::RegisterResult result;
    result.ttl = ttl.count();
    return result;
}

RendezvousMessage::QueryResult RendezvousPoint::discover(const RendezvousMessage::Query &query)
{
    Message::QueryResult result;
    const int limit =
        int(std::clamp<qint64>(query.limit.value_or(0), 0, m_options.limits.maxDiscoverLimit));
    const auto page = m_store.discover(query.ns, limit, query.cookie);
    if (!page) {
        countRefusal(Message::InvalidCookie);
        result.status = Message::InvalidCookie;
        result.statusText = QStringLiteral("unknown cookie");
        return result;
    }
    const qint64 now = m_store.now();
    for (const RegistrationStore::Registration &registration : page->registrations) {
        Message::Registration entry;
        entry.ns = registration.ns;
        entry.signedPeerRecord = registration.signedPeerRecord;
        entry.ttl = std::max<qint64>(1, (registration.expiresAt - now + 999) / 1000);
        result.registrations.push_back(std::move(entry));
    }
    result.cookie = page->cookie;
    return result;
}

RegistrationStore::Outcome RendezvousPoint::applyShared(const SharedRegistration &registration)
{
    const RegistrationStore::Outcome outcome = m_store.addShared(
        registration.toStored(m_store.now(), QDateTime::currentMSecsSinceEpoch()));
    switch (outcome) {
    case RegistrationStore::Outcome::PeerFull:
    case RegistrationStore::Outcome::NamespaceFull:
    case RegistrationStore::Outcome::StoreFull:
        qCDebug(lcRendezvous,
                "rendezvous: not holding %s in \"%s\" from another instance: "
                "this instance's limits are reached",
                qPrintable(registration.peer.toText()), qPrintable(registration.ns));
        break;
    default:
        break;
    }
    return outcome;
}

void RendezvousPoint::applyUnregistration(const QString &ns, const PeerId &peer)
{
    m_store.remove(ns, peer);
}

std::vector<SharedRegistration>
RendezvousPoint::resynchronise(const std::vector<SharedRegistration> &cluster)
{
    const qint64 storeNow = m_store.now();
    const qint64 unixNowMs = QDateTime::currentMSecsSinceEpoch();
    std::vector<RegistrationStore::Registration> shared;
    shared.reserve(cluster.size());
    for (const SharedRegistration &registration : cluster)
        shared.push_back(registration.toStored(storeNow, unixNowMs));
    const RegistrationStore::Resynchronisation result = m_store.replaceShared(std::move(shared));
    if (result.refused > 0)
        qCDebug(lcRendezvous,
                "rendezvous: not holding %d registrations from the cluster: this instance's "
                "limits are reached",
                result.refused);
    std::vector<SharedRegistration> own;
    for (const RegistrationStore::Registration &registration : result.ownToResend)
        own.push_back(SharedRegistration::fromStored(registration, storeNow, unixNowMs));
    return own;
}

void RendezvousPoint::countRefusal(RendezvousMessage::Status status)
{
    QMutexLocker locker(&m_statsMutex);
    ++m_stats.refusals[status];
}

RendezvousPoint::Stats RendezvousPoint::stats() const
{
    QMutexLocker locker(&m_statsMutex);
    return m_stats;
}

QByteArray RendezvousPoint::statusName(RendezvousMessage::Status status)
{
    switch (status) {
    case Message::Ok:
        return "OK";
    case Message::InvalidNamespace:
        return "E_INVALID_NAMESPACE";
    case Message::InvalidSignedPeerRecord:
        return "E_INVALID_SIGNED_PEER_RECORD";
    case Message::InvalidTtl:
        return "E_INVALID_TTL";
    case Message::InvalidCookie:
        return "E_INVALID_COOKIE";
    case Message::PowRequired:
        return "E_POW_REQUIRED";
    case Message::DifficultyTooLow:
        return "E_DIFFICULTY_TOO_LOW";
    case Message::NotAuthorized:
        return "E_NOT_AUTHORIZED";
    case Message::InternalError:
        return "E_INTERNAL_ERROR";
    case Message::Unavailable:
        return "E_UNAVAILABLE";
    }
    return QByteArray::number(quint64(status));
}
