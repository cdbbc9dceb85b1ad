#include "relaymessages.h"

#include "libp2p/protobuf.h"
#include "libp2p/varint.h"

namespace RelayMessages {

namespace {

using Field = ProtobufReader::Field;

bool isBytes(const Field &field)
{
    return field.type == ProtobufReader::LengthDelimitedType;
}

bool isVarint(const Field &field)
{
    return field.type == ProtobufReader::VarintType;
}

QByteArray encodePeer(const Peer &peer)
{
    ProtobufWriter writer;
    writer.addBytes(1, peer.id);
    for (const QByteArray &addr : peer.addrs)
        writer.addBytes(2, addr);
    return writer.bytes();
}

std::optional<Peer> decodePeer(const QByteArray &bytes)
{
    Peer peer;
    bool hasId = false;
    ProtobufReader reader(bytes);
    while (const auto field = reader.next()) {
        if (field->number == 1 || field->number == 2) {
            if (!isBytes(*field))
                return std::nullopt;
            if (field->number == 1) {
                peer.id = field->bytes;
                hasId = true;
            } else {
                peer.addrs.push_back(field->bytes);
            }
        }
    }
    if (reader.failed() || !hasId) // `id` is required
        return std::nullopt;
    return peer;
}

QByteArray encodeReservation(const Reservation &reservation)
{
    ProtobufWriter writer;
    if (reservation.expire)
        writer.addVarint(1, *reservation.expire);
    for (const QByteArray &addr : reservation.addrs)
        writer.addBytes(2, addr);
    if (!reservation.voucher.isEmpty())
        writer.addBytes(3, reservation.voucher);
    return writer.bytes();
}

std::optional<Reservation> decodeReservation(const QByteArray &bytes)
{
    Reservation reservation;
    ProtobufReader reader(bytes);
    while (const auto field = reader.next()) {
        switch (field->number) {
        case 1:
            if (!isVarint(*field))
                return std::nullopt;
            reservation.expire = field->varint;
            break;
        case 2:
        case 3:
            if (!isBytes(*field))
                return std::nullopt;
            if (field->number == 2)
                reservation.addrs.push_back(field->bytes);
            else
                reservation.voucher = field->bytes;
            break;
        default:
            break;
        }
    }
    if (reader.failed())
        return std::nullopt;
    return reservation;
}

QByteArray encodeLimit(const Limit &limit)
{
    ProtobufWriter writer;
    if (limit.duration)
        writer.addVarint(1, *limit.duration);
    if (limit.data)
        writer.addVarint(2, *limit.data);
    return writer.bytes();
}

std::optional<Limit> decodeLimit(const QByteArray &bytes)
{
    Limit limit;
    ProtobufReader reader(bytes);
    while (const auto field = reader.next()) {
        if (field->number != 1 && field->number != 2)
            continue;
        if (!isVarint(*field))
            return std::nullopt;
        if (field->number == 1)
            limit.duration = quint32(field->varint); // a uint32 field keeps the low 32 bits
        else
            limit.data = field->varint;
    }
    if (reader.failed())
        return std::nullopt;
    return limit;
}

// What HopMessage and StopMessage share: a required type, a peer, a limit and a status.
struct Common
{
    std::optional<quint64> type;
    std::optional<Peer> peer;
    std::optional<Limit> limit;
    std::optional<Status> status;
    std::optional<Reservation> reservation; // HopMessage only
};

std::optional<Common> decodeCommon(const QByteArray &bytes, int limitField, int statusField,
                                   int reservationField)
{
    if (bytes.size() > maxMessageBytes)
        return std::nullopt;
    Common common;
    ProtobufReader reader(bytes);
    while (const auto field = reader.next()) {
        const int number = field->number;
        if (number == 1 || number == statusField) {
            if (!isVarint(*field))
                return std::nullopt;
            if (number == 1)
                common.type = field->varint;
            else if (field->varint <= 0xffffffffu)
                common.status = Status(quint32(field->varint));
            else
                return std::nullopt;
        } else if (number == 2 || number == limitField || number == reservationField) {
            if (!isBytes(*field))
                return std::nullopt;
            if (number == 2) {
                if (!(common.peer = decodePeer(field->bytes)))
                    return std::nullopt;
            } else if (number == limitField) {
                if (!(common.limit = decodeLimit(field->bytes)))
                    return std::nullopt;
            } else if (!(common.reservation = decodeReservation(field->bytes))) {
                return std::nullopt;
            }
        }
    }
    if (reader.failed() || !common.type)
        return std::nullopt;
    return common;
}

} // namespace

QByteArray HopMessage::encode() const
{
    ProtobufWriter writer;
    writer.addVarint(1, type);
    if (peer)
        writer.addBytes(2, encodePeer(*peer));
    if (reservation)
        writer.addBytes(3, encodeReservation(*reservation));
    if (limit)
        writer.addBytes(4, encodeLimit(*limit));
    if (status)
        writer.addVarint(5, quint32(*status));
    return writer.bytes();
}

std::optional<HopMessage> HopMessage::decode(const QByteArray &bytes)
{
    const auto common = decodeCommon(bytes, 4, 5, 3);
    if (!common || *common->type > StatusType)
        return std::nullopt;
    HopMessage message;
    message.type = Type(*common->type);
    message.peer = common->peer;
    message.reservation = common->reservation;
    message.limit = common->limit;
    message.status = common->status;
    return message;
}

QByteArray StopMessage::encode() const
{
    ProtobufWriter writer;
    writer.addVarint(1, type);
    if (peer)
        writer.addBytes(2, encodePeer(*peer));
    if (limit)
        writer.addBytes(3, encodeLimit(*limit));
    if (status)
        writer.addVarint(4, quint32(*status));
    return writer.bytes();
}

std::optional<StopMessage> StopMessage::decode(const QByteArray &bytes)
{
    // A StopMessage has no reservation: field 3 is its limit (0 never matches a field).
    const auto common = decodeCommon(bytes, 3, 4, 0);
    if (!common || *common->type > StatusType)
        return std::nullopt;
    StopMessage message;
    message.type = Type(*common->type);
    message.peer = common->peer;
    message.limit = common->limit;
    message.status = common->status;
    return message;
}

QByteArray frame(const QByteArray &message)
{
    return Varint::encode(quint64(message.size())) + message;
}

FrameReader::State FrameReader::feed(const QByteArray &bytes)
{
    if (m_state == State::Failed)
        return m_state;
    if (m_state == State::Ready) {
        m_buffer.append(bytes); // the caller bounds what follows a message
        return m_state;
    }
    // Never more than one message and its length are kept while waiting for the rest.
    m_buffer.append(bytes);
    const Varint::Decoded length = Varint::decode(m_buffer);
    if (length.status == Varint::Status::Incomplete)
        return m_state;
    if (length.status != Varint::Status::Ok || length.value > quint64(maxMessageBytes))
        return m_state = State::Failed;
    if (m_buffer.size() - length.length < qsizetype(length.value)) {
        if (m_buffer.size() > maxMessageBytes + Varint::maxBytes)
            return m_state = State::Failed;
        return m_state;
    }
    m_message = m_buffer.mid(length.length, qsizetype(length.value));
    m_buffer.remove(0, length.length + qsizetype(length.value));
    return m_state = State::Ready;
}

} // namespace RelayMessages
