// libFuzzer target: signed envelopes (RFC 0002) and the peer records inside them (RFC 0003),
// as a rendezvous REGISTER or a relay voucher brings them. What opens or decodes encodes back
// to a form that decodes the same; nothing opens with a domain it was not sealed for.
#include "libp2p/peerrecord.h"
#include "libp2p/signedenvelope.h"

#include <cstdint>
#include <cstdlib>

namespace {

void checkRecord(const QByteArray &bytes)
{
    const auto record = PeerRecord::decode(bytes);
    if (!record)
        return;
    const auto again = PeerRecord::decode(record->encode());
    if (!again || again->peerId != record->peerId || again->seq != record->seq ||
        !(again->addresses == record->addresses))
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    checkRecord(bytes);

    QString error;
    const auto envelope = SignedEnvelope::open(bytes, PeerRecord::domain, &error);
    if (!envelope) {
        if (error.isEmpty())
            std::abort();
        return 0;
    }
    // A valid signature is for one domain only.
    if (SignedEnvelope::open(bytes, "libp2p-relay-rsvp"))
        std::abort();
    envelope->signer();
    checkRecord(envelope->payload);
    return 0;
}
