#include "signedenvelope.h"

#include "protobuf.h"
#include "varint.h"

namespace {

// RFC 0002's text numbers the signature 4, but go-, rust- and js-libp2p all put it in field 5,
// and their envelopes are the ones we meet: we follow the wire, not the typo.
enum Field
{
    PublicKeyField = 1,
    PayloadTypeField = 2,
    PayloadField = 3,
    SignatureField = 5
};

std::optional<SignedEnvelope> refuse(QString *error, const char *reason)
{
    if (error)
        *error = QString::fromLatin1(reason);
    return std::nullopt;
}

} // namespace

QByteArray SignedEnvelope::signedBytes(const QByteArray &domain, const QByteArray &payloadType,
                                       const QByteArray &payload)
{
    QByteArray bytes;
    for (const QByteArray *part : {&domain, &payloadType, &payload}) {
        Varint::append(bytes, quint64(part->size()));
        bytes.append(*part);
    }
    return bytes;
}

QByteArray SignedEnvelope::seal(const IdentityKey &key, const QByteArray &domain,
                                const QByteArray &payloadType, const QByteArray &payload)
{
    ProtobufWriter writer;
    writer.addBytes(PublicKeyField, key.publicKeyProtobuf());
    writer.addBytes(PayloadTypeField, payloadType);
    writer.addBytes(PayloadField, payload);
    writer.addBytes(SignatureField, key.sign(signedBytes(domain, payloadType, payload)));
    return writer.bytes();
}

std::optional<SignedEnvelope> SignedEnvelope::open(const QByteArray &bytes,
                                                   const QByteArray &domain, QString *error)
{
    SignedEnvelope envelope;
    ProtobufReader reader(bytes);
    while (const auto field = reader.next()) {
        if (field->type != ProtobufReader::LengthDelimitedType)
            continue;
        switch (field->number) {
        case PublicKeyField:
            envelope.publicKey = field->bytes;
            break;
        case PayloadTypeField:
            envelope.payloadType = field->bytes;
            break;
        case PayloadField:
            envelope.payload = field->bytes;
            break;
        case SignatureField:
            envelope.signature = field->bytes;
            break;
        default:
            break;
        }
    }
    if (reader.failed())
        return refuse(error, "malformed envelope");
    if (envelope.publicKey.isEmpty() || envelope.signature.isEmpty())
        return refuse(error, "envelope without key or signature");
    if (!IdentityKey::ed25519FromProtobuf(envelope.publicKey))
        return refuse(error, "envelope signed with an unsupported key type");
    if (!IdentityKey::verify(envelope.publicKey,
                             signedBytes(domain, envelope.payloadType, envelope.payload),
                             envelope.signature))
        return refuse(error, "bad envelope signature");
    return envelope;
}

PeerId SignedEnvelope::signer() const
{
    return PeerId::fromPublicKey(publicKey);
}
