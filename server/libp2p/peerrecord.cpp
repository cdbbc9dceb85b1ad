#include "peerrecord.h"

#include "protobuf.h"

namespace {

enum Field
{
    PeerIdField = 1,
    SeqField = 2,
    AddressesField = 3
};
constexpr int addressInfoMultiaddrField = 1;

std::optional<Multiaddr> decodeAddressInfo(const QByteArray &bytes)
{
    ProtobufReader reader(bytes);
    std::optional<Multiaddr> address;
    while (const auto field = reader.next()) {
        if (field->number == addressInfoMultiaddrField &&
            field->type == ProtobufReader::LengthDelimitedType)
            address = Multiaddr::fromBytes(field->bytes);
    }
    if (reader.failed())
        return std::nullopt;
    return address;
}

} // namespace

QByteArray PeerRecord::encode() const
{
    ProtobufWriter writer;
    writer.addBytes(PeerIdField, peerId.bytes());
    writer.addVarint(SeqField, seq);
    for (const Multiaddr &address : addresses) {
        ProtobufWriter info;
        info.addBytes(addressInfoMultiaddrField, address.toBytes());
        writer.addBytes(AddressesField, info.bytes());
    }
    return writer.bytes();
}

std::optional<PeerRecord> PeerRecord::decode(const QByteArray &bytes)
{
    std::optional<PeerId> peerId;
    PeerRecord record;
    ProtobufReader reader(bytes);
    while (const auto field = reader.next()) {
        if (field->number == PeerIdField && field->type == ProtobufReader::LengthDelimitedType) {
            peerId = PeerId::fromBytes(field->bytes);
            if (!peerId)
                return std::nullopt;
        } else if (field->number == SeqField && field->type == ProtobufReader::VarintType) {
            record.seq = field->varint;
        } else if (field->number == AddressesField &&
                   field->type == ProtobufReader::LengthDelimitedType) {
            auto address = decodeAddressInfo(field->bytes);
            if (!address)
                return std::nullopt;
            record.addresses.push_back(std::move(*address));
        }
    }
    if (reader.failed() || !peerId)
        return std::nullopt;
    record.peerId = *peerId;
    return record;
}
