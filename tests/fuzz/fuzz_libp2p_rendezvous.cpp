// libFuzzer target: rendezvous messages as a peer sends them, decoded and then answered by a
// rendezvous point with small limits (REGISTER checks, the store, DISCOVER cookies). What
// decodes encodes back to the same bytes once canonical.
#include "libp2p/identitykey.h"
#include "libp2p/rendezvous/rendezvousmessage.h"
#include "libp2p/rendezvous/rendezvouspoint.h"

#include <cstdint>
#include <cstdlib>

namespace {

RendezvousPoint &point()
{
    static RendezvousPoint instance = [] {
        RendezvousPoint::Options options;
        options.limits.maxRegistrations = 64;
        options.limits.maxPerPeer = 8;
        options.limits.maxPerNamespace = 16;
        return RendezvousPoint(options, [] { return qint64(0); });
    }();
    return instance;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto message = RendezvousMessage::decode(bytes);
    if (!message)
        return 0;
    const QByteArray canonical = message->encode();
    const auto again = RendezvousMessage::decode(canonical);
    if (!again || again->encode() != canonical)
        std::abort();

    static const PeerId remote = PeerId::fromPublicKey(IdentityKey::generate().publicKeyProtobuf());
    if (const auto answer = point().handle(*message, remote)) {
        if (!RendezvousMessage::decode(answer->encode()))
            std::abort();
    }
    return 0;
}
