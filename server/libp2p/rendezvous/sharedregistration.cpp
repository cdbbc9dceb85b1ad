#include "sharedregistration.h"

#include "libp2p/peerrecord.h"
#include "libp2p/signedenvelope.h"

QByteArray SharedRegistration::keyOf(const QString &ns, const PeerId &peer)
{
    return ns.toUtf8() + '\0' + peer.toText().toLatin1();
}

QByteArray SharedRegistration::value() const
{
    return QByteArray::number(expiresAtMs) + ' ' + QByteArray::number(recordSeq) + ' ' +
           signedPeerRecord;
}

std::optional<std::pair<QString, PeerId>> SharedRegistration::decodeKey(const QByteArray &key)
{
    const qsizetype separator = key.lastIndexOf('\0');
    if (separator <= 0)
        return std::nullopt;
    const auto peer = PeerId::fromText(QString::fromLatin1(key.mid(separator + 1)));
    if (!peer)
        return std::nullopt;
    return std::make_pair(QString::fromUtf8(key.left(separator)), *peer);
}

std::optional<SharedRegistration> SharedRegistration::decode(const QByteArray &key,
                                                             const QByteArray &value)
{
    const auto nsAndPeer = decodeKey(key);
    const qsizetype firstSpace = value.indexOf(' ');
    const qsizetype secondSpace = firstSpace < 0 ? -1 : value.indexOf(' ', firstSpace + 1);
    if (!nsAndPeer || secondSpace < 0)
        return std::nullopt;
    SharedRegistration registration;
    registration.ns = nsAndPeer->first;
    registration.peer = nsAndPeer->second;
    bool expiryOk = false;
    bool seqOk = false;
    registration.expiresAtMs = value.left(firstSpace).toLongLong(&expiryOk);
    registration.recordSeq =
        value.mid(firstSpace + 1, secondSpace - firstSpace - 1).toULongLong(&seqOk);
    registration.signedPeerRecord = value.mid(secondSpace + 1);
    if (!expiryOk || !seqOk)
        return std::nullopt;

    // Checked again rather than trusted: whatever is in Redis, a peer's registration here is
    // only ever its own signed record.
    const auto envelope = SignedEnvelope::open(registration.signedPeerRecord, PeerRecord::domain);
    if (!envelope || envelope->payloadType != PeerRecord::payloadType())
        return std::nullopt;
    const auto record = PeerRecord::decode(envelope->payload);
    if (!record || record->peerId != envelope->signer() || record->peerId != registration.peer ||
        record->seq != registration.recordSeq)
        return std::nullopt;
    registration.addresses = record->addresses;
    return registration;
}

SharedRegistration
SharedRegistration::fromStored(const RegistrationStore::Registration &registration, qint64 storeNow,
                               qint64 unixNowMs)
{
    SharedRegistration shared;
    shared.ns = registration.ns;
    shared.peer = registration.peer;
    shared.signedPeerRecord = registration.signedPeerRecord;
    shared.recordSeq = registration.recordSeq;
    shared.expiresAtMs = unixNowMs + (registration.expiresAt - storeNow);
    shared.addresses = registration.addresses;
    return shared;
}

RegistrationStore::Registration SharedRegistration::toStored(qint64 storeNow,
                                                             qint64 unixNowMs) const
{
    RegistrationStore::Registration registration;
    registration.ns = ns;
    registration.peer = peer;
    registration.addresses = addresses;
    registration.signedPeerRecord = signedPeerRecord;
    registration.recordSeq = recordSeq;
    registration.expiresAt = storeNow + (expiresAtMs - unixNowMs);
    registration.fromOtherInstance = true;
    return registration;
}
