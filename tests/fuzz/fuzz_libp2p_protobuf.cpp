// libFuzzer target: the protobuf messages and binary forms a libp2p peer sends us (identify,
// keys, the Noise handshake payload's fields, peer IDs, multiaddresses). What decodes encodes
// back to a form that decodes the same.
#include "libp2p/identifymessage.h"
#include "libp2p/identitykey.h"
#include "libp2p/multiaddr.h"
#include "libp2p/peerid.h"
#include "libp2p/protobuf.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));

    ProtobufReader reader(bytes);
    while (const auto field = reader.next()) {
        // A handshake payload's identity key and signature, checked as the responder does.
        if (field->type == ProtobufReader::LengthDelimitedType)
            IdentityKey::verify(field->bytes, "noise-libp2p-static-key:", bytes);
    }

    if (const auto message = IdentifyMessage::decode(bytes)) {
        const auto again = IdentifyMessage::decode(message->encode());
        if (!again || again->protocols != message->protocols ||
            again->listenAddrs != message->listenAddrs || again->publicKey != message->publicKey)
            std::abort();
        for (const QByteArray &address : message->listenAddrs)
            Multiaddr::fromBytes(address);
    }

    if (const auto key = IdentityKey::fromPrivateKeyProtobuf(bytes)) {
        if (!IdentityKey::fromPrivateKeyProtobuf(key->privateKeyProtobuf()))
            std::abort();
    }
    IdentityKey::ed25519FromProtobuf(bytes);

    if (const auto id = PeerId::fromBytes(bytes)) {
        const auto again = PeerId::fromText(id->toText());
        if (!again || *again != *id)
            std::abort();
    }
    PeerId::fromText(QString::fromLatin1(bytes.left(200)));

    if (const auto address = Multiaddr::fromBytes(bytes)) {
        if (address->toBytes() != bytes)
            std::abort();
        const auto fromText = Multiaddr::fromText(address->toText());
        if (!fromText || fromText->toBytes() != bytes)
            std::abort();
    }
    if (const auto address = Multiaddr::fromText(QString::fromUtf8(bytes))) {
        const auto again = Multiaddr::fromBytes(address->toBytes());
        if (!again || !(*again == *address))
            std::abort();
    }
    return 0;
}
