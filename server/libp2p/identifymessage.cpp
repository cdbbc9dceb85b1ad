#include "identifymessage.h"

#include "protobuf.h"

namespace {

enum Field
{
    PublicKeyField = 1,
    ListenAddrsField = 2,
    ProtocolsField = 3,
    ObservedAddrField = 4,
    ProtocolVersionField = 5,
    AgentVersionField = 6,
};

} // namespace

QByteArray IdentifyMessage::encode() const
{
    ProtobufWriter writer;
    writer.addBytes(PublicKeyField, publicKey);
    for (const QByteArray &address : listenAddrs)
        writer.addBytes(ListenAddrsField, address);
    for (const QByteArray &protocol : protocols)
        writer.addString(ProtocolsField, protocol);
    if (!observedAddr.isEmpty())
        writer.addBytes(ObservedAddrField, observedAddr);
    writer.addString(ProtocolVersionField, protocolVersion);
    writer.addString(AgentVersionField, agentVersion);
    return writer.bytes();
}

std::optional<IdentifyMessage> IdentifyMessage::decode(const QByteArray &bytes)
{
    if (bytes.size() > maxBytes)
        return std::nullopt;
    IdentifyMessage message;
    ProtobufReader reader(bytes);
    while (const auto field = reader.next()) {
        if (field->type != ProtobufReader::LengthDelimitedType)
            continue;
        switch (field->number) {
        case PublicKeyField:
            message.publicKey = field->bytes;
            break;
        case ListenAddrsField:
            message.listenAddrs.append(field->bytes);
            break;
        case ProtocolsField:
            message.protocols.append(field->bytes);
            break;
        case ObservedAddrField:
            message.observedAddr = field->bytes;
            break;
        case ProtocolVersionField:
            message.protocolVersion = field->bytes;
            break;
        case AgentVersionField:
            message.agentVersion = field->bytes;
            break;
        default: // signedPeerRecord (8) and fields to come
            break;
        }
    }
    if (reader.failed())
        return std::nullopt;
    return message;
}
