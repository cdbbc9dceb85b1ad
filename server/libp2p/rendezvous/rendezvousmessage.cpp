#include "rendezvousmessage.h"

#include "libp2p/protobuf.h"

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

// Reads the fields of one nested message through `apply`; false when it is malformed.
template <typename Apply> bool readFields(const QByteArray &bytes, Apply apply)
{
    ProtobufReader reader(bytes);
    while (const auto field = reader.next())
        apply(*field);
    return !reader.failed();
}

QByteArray encodeRegistration(const RendezvousMessage::Registration &registration)
{
    ProtobufWriter writer;
    writer.addString(1, registration.ns.toUtf8());
    writer.addBytes(2, registration.signedPeerRecord);
    if (registration.ttl)
        writer.addVarint(3, quint64(*registration.ttl));
    return writer.bytes();
}

std::optional<RendezvousMessage::Registration> decodeRegistration(const QByteArray &bytes)
{
    RendezvousMessage::Registration registration;
    const bool ok = readFields(bytes, [&](const Field &field) {
        if (field.number == 1 && isBytes(field))
            registration.ns = QString::fromUtf8(field.bytes);
        else if (field.number == 2 && isBytes(field))
            registration.signedPeerRecord = field.bytes;
        else if (field.number == 3 && isVarint(field))
            registration.ttl = qint64(field.varint);
    });
    return ok ? std::optional(registration) : std::nullopt;
}

QByteArray encodeRegisterResult(const RendezvousMessage::RegisterResult &result)
{
    ProtobufWriter writer;
    writer.addVarint(1, result.status);
    if (!result.statusText.isEmpty())
        writer.addString(2, result.statusText.toUtf8());
    if (result.ttl)
        writer.addVarint(3, quint64(*result.ttl));
    return writer.bytes();
}

std::optional<RendezvousMessage::RegisterResult> decodeRegisterResult(const QByteArray &bytes)
{
    RendezvousMessage::RegisterResult result;
    const bool ok = readFields(bytes, [&](const Field &field) {
        if (field.number == 1 && isVarint(field))
            result.status = RendezvousMessage::Status(field.varint);
        else if (field.number == 2 && isBytes(field))
            result.statusText = QString::fromUtf8(field.bytes);
        else if (field.number == 3 && isVarint(field))
            result.ttl = qint64(field.varint);
    });
    return ok ? std::optional(result) : std::nullopt;
}

QByteArray encodeUnregistration(const RendezvousMessage::Unregistration &unregistration)
{
    ProtobufWriter writer;
    writer.addString(1, unregistration.ns.toUtf8());
    if (!unregistration.id.isEmpty())
        writer.addBytes(2, unregistration.id);
    return writer.bytes();
}

std::optional<RendezvousMessage::Unregistration> decodeUnregistration(const QByteArray &bytes)
{
    RendezvousMessage::Unregistration unregistration;
    const bool ok = readFields(bytes, [&](const Field &field) {
        if (field.number == 1 && isBytes(field))
            unregistration.ns = QString::fromUtf8(field.bytes);
        else if (field.number == 2 && isBytes(field))
            unregistration.id = field.bytes;
    });
    return ok ? std::optional(unregistration) : std::nullopt;
}

QByteArray encodeQuery(const RendezvousMessage::Query &query)
{
    ProtobufWriter writer;
    if (!query.ns.isEmpty())
        writer.addString(1, query.ns.toUtf8());
    if (query.limit)
        writer.addVarint(2, quint64(*query.limit));
    if (!query.cookie.isEmpty())
        writer.addBytes(3, query.cookie);
    return writer.bytes();
}

std::optional<RendezvousMessage::Query> decodeQuery(const QByteArray &bytes)
{
    RendezvousMessage::Query query;
    const bool ok = readFields(bytes, [&](const Field &field) {
        if (field.number == 1 && isBytes(field))
            query.ns = QString::fromUtf8(field.bytes);
        else if (field.number == 2 && isVarint(field))
            query.limit = qint64(field.varint);
        else if (field.number == 3 && isBytes(field))
            query.cookie = field.bytes;
    });
    return ok ? std::optional(query) : std::nullopt;
}

QByteArray encodeQueryResult(const RendezvousMessage::QueryResult &result)
{
    ProtobufWriter writer;
    for (const auto &registration : result.registrations)
        writer.addBytes(1, encodeRegistration(registration));
    if (!result.cookie.isEmpty())
        writer.addBytes(2, result.cookie);
    writer.addVarint(3, result.status);
    if (!result.statusText.isEmpty())
        writer.addString(4, result.statusText.toUtf8());
    return writer.bytes();
}

std::optional<RendezvousMessage::QueryResult> decodeQueryResult(const QByteArray &bytes)
{
    RendezvousMessage::QueryResult result;
    bool nestedOk = true;
    const bool ok = readFields(bytes, [&](const Field &field) {
        if (field.number == 1 && isBytes(field)) {
            if (auto registration = decodeRegistration(field.bytes))
                result.registrations.push_back(std::move(*registration));
            else
                nestedOk = false;
        } else if (field.number == 2 && isBytes(field)) {
            result.cookie = field.bytes;
        } else if (field.number == 3 && isVarint(field)) {
            result.status = RendezvousMessage::Status(field.varint);
        } else if (field.number == 4 && isBytes(field)) {
            result.statusText = QString::fromUtf8(field.bytes);
        }
    });
    return ok && nestedOk ? std::optional(result) : std::nullopt;
}

// Decodes a nested message into `slot`; false when it is malformed.
template <typename T, typename Decode>
bool decodeInto(std::optional<T> &slot, const QByteArray &bytes, Decode decode)
{
    slot = decode(bytes);
    return slot.has_value();
}

} // namespace

QByteArray RendezvousMessage::encode() const
{
    ProtobufWriter writer;
    writer.addVarint(1, type);
    if (registration)
        writer.addBytes(2, encodeRegistration(*registration));
    if (registerResult)
        writer.addBytes(3, encodeRegisterResult(*registerResult));
    if (unregistration)
        writer.addBytes(4, encodeUnregistration(*unregistration));
    if (query)
        writer.addBytes(5, encodeQuery(*query));
    if (queryResult)
        writer.addBytes(6, encodeQueryResult(*queryResult));
    return writer.bytes();
}

std::optional<RendezvousMessage> RendezvousMessage::decode(const QByteArray &bytes)
{
    RendezvousMessage message;
    bool nestedOk = true;
    const bool ok = readFields(bytes, [&](const Field &field) {
        if (field.number == 1 && isVarint(field)) {
            message.type = Type(field.varint);
            return;
        }
        if (!isBytes(field))
            return;
        switch (field.number) {
        case 2:
            nestedOk &= decodeInto(message.registration, field.bytes, decodeRegistration);
            break;
        case 3:
            nestedOk &= decodeInto(message.registerResult, field.bytes, decodeRegisterResult);
            break;
        case 4:
            nestedOk &= decodeInto(message.unregistration, field.bytes, decodeUnregistration);
            break;
        case 5:
            nestedOk &= decodeInto(message.query, field.bytes, decodeQuery);
            break;
        case 6:
            nestedOk &= decodeInto(message.queryResult, field.bytes, decodeQueryResult);
            break;
        default:
            break;
        }
    });
    if (!ok || !nestedOk)
        return std::nullopt;
    return message;
}
