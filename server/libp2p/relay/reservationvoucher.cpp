#include "reservationvoucher.h"

#include "libp2p/protobuf.h"
#include "libp2p/signedenvelope.h"

QByteArray ReservationVoucher::encode() const
{
    ProtobufWriter writer;
    writer.addBytes(1, relay);
    writer.addBytes(2, peer);
    writer.addVarint(3, expiration);
    return writer.bytes();
}

std::optional<ReservationVoucher> ReservationVoucher::decode(const QByteArray &bytes)
{
    ReservationVoucher voucher;
    bool seen[4] = {};
    ProtobufReader reader(bytes);
    while (const auto field = reader.next()) {
        if (field->number < 1 || field->number > 3)
            continue;
        const bool wantBytes = field->number != 3;
        if ((field->type == ProtobufReader::LengthDelimitedType) != wantBytes ||
            (!wantBytes && field->type != ProtobufReader::VarintType))
            return std::nullopt;
        seen[field->number] = true;
        if (field->number == 1)
            voucher.relay = field->bytes;
        else if (field->number == 2)
            voucher.peer = field->bytes;
        else
            voucher.expiration = field->varint;
    }
    if (reader.failed() || !seen[1] || !seen[2] || !seen[3]) // all three are required
        return std::nullopt;
    return voucher;
}

QByteArray ReservationVoucher::seal(const IdentityKey &relayKey) const
{
    return SignedEnvelope::seal(relayKey, domain, payloadType(), encode());
}

std::optional<ReservationVoucher> ReservationVoucher::open(const QByteArray &envelope)
{
    const auto opened = SignedEnvelope::open(envelope, domain);
    if (!opened || opened->payloadType != payloadType())
        return std::nullopt;
    auto voucher = decode(opened->payload);
    if (!voucher || voucher->relay != opened->signer().bytes())
        return std::nullopt;
    return voucher;
}
