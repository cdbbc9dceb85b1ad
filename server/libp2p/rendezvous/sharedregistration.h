#pragma once

#include "libp2p/multiaddr.h"
#include "libp2p/peerid.h"
#include "registrationstore.h"

#include <QByteArray>
#include <QString>

#include <optional>
#include <vector>

// A rendezvous registration as the instances of a cluster share it (through Redis). Its expiry
// is on the wall clock, as each instance's monotonic clock is its own; the addresses travel
// inside the signed peer record, which every instance opens and checks again.
struct SharedRegistration
{
    QString ns;
    PeerId peer;
    QByteArray signedPeerRecord;
    quint64 recordSeq = 0;
    qint64 expiresAtMs = 0;           // Unix milliseconds
    std::vector<Multiaddr> addresses; // from the record, filled by decode()

    // The namespace, a NUL, the peer ID's text: the namespace may hold NULs, the text never does.
    static QByteArray keyOf(const QString &ns, const PeerId &peer);
    QByteArray key() const { return keyOf(ns, peer); }
    // "<expiresAtMs> <recordSeq> <signed peer record>", which the cluster's scripts read too.
    QByteArray value() const;

    // Nothing when either is malformed or the record is not a valid one of the key's peer.
    static std::optional<SharedRegistration> decode(const QByteArray &key, const QByteArray &value);
    // The namespace and peer of a key; nothing when malformed.
    static std::optional<std::pair<QString, PeerId>> decodeKey(const QByteArray &key);

    // Between the store's terms (expiry on its clock, `storeNow`) and the cluster's.
    static SharedRegistration fromStored(const RegistrationStore::Registration &registration,
                                         qint64 storeNow, qint64 unixNowMs);
    RegistrationStore::Registration toStored(qint64 storeNow, qint64 unixNowMs) const;
};
