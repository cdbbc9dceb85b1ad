// libFuzzer target: what a libp2p peer can send a Noise responder (our side of every inbound
// connection) and an initiator that has sent its first message, split anywhere. Forged bytes
// never complete a handshake.
#include "libp2p/noisesession.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const IdentityKey identity = IdentityKey::generate();
    const QByteArray bytes(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const qsizetype split = data[0] % (bytes.size() + 1);

    NoiseSession responder(NoiseSession::Role::Responder, identity);
    responder.feed(bytes.left(split));
    responder.takeOutput();
    responder.feed(bytes.mid(split));
    if (responder.state() == NoiseSession::State::Established)
        std::abort(); // the third message needs the responder's fresh keys

    NoiseSession initiator(NoiseSession::Role::Initiator, identity);
    initiator.takeOutput();
    initiator.feed(bytes.left(split));
    initiator.feed(bytes.mid(split));
    if (initiator.state() == NoiseSession::State::Established)
        std::abort(); // the second message needs our fresh ephemeral key
    return 0;
}
