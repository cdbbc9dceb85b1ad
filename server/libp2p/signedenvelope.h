#pragma once

#include "identitykey.h"
#include "peerid.h"

#include <QByteArray>
#include <QString>

#include <optional>

// A signed envelope (libp2p RFC 0002): a payload and its type, signed with a domain string
// that never travels, so that a signature made for one purpose is worthless for another.
class SignedEnvelope
{
public:
    QByteArray publicKey; // the signer's PublicKey protobuf
    QByteArray payloadType;
    QByteArray payload;
    QByteArray signature;

    // The Envelope protobuf bytes.
    static QByteArray seal(const IdentityKey &key, const QByteArray &domain,
                           const QByteArray &payloadType, const QByteArray &payload);
    // Parses and verifies the signature for `domain`; nothing (and a reason) otherwise.
    static std::optional<SignedEnvelope> open(const QByteArray &bytes, const QByteArray &domain,
                                              QString *error = nullptr);

    PeerId signer() const;

    // What is signed: each of domain, payload type and payload after its uvarint length.
    static QByteArray signedBytes(const QByteArray &domain, const QByteArray &payloadType,
                                  const QByteArray &payload);
};
