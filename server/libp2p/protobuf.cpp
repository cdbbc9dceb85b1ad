#include "protobuf.h"

#include "varint.h"

void ProtobufWriter::addVarint(int field, quint64 value)
{
    Varint::append(m_bytes, quint64(field) << 3 | ProtobufReader::VarintType);
    Varint::append(m_bytes, value);
}

void ProtobufWriter::addBytes(int field, const QByteArray &value)
{
    Varint::append(m_bytes, quint64(field) << 3 | ProtobufReader::LengthDelimitedType);
    Varint::append(m_bytes, quint64(value.size()));
    m_bytes.append(value);
}

std::optional<ProtobufReader::Field> ProtobufReader::fail()
{
    m_failed = true;
    return std::nullopt;
}

std::optional<ProtobufReader::Field> ProtobufReader::next()
{
    if (m_failed || atEnd())
        return std::nullopt;
    const Varint::Decoded key = Varint::decode(m_message, m_offset);
    if (key.status != Varint::Status::Ok)
        return fail();
    m_offset += key.length;
    const quint64 number = key.value >> 3;
    if (number == 0 || number > 536870911) // protobuf's field number range
        return fail();
    Field field;
    field.number = int(number);
    const qsizetype remaining = m_message.size() - m_offset;
    switch (key.value & 7) {
    case VarintType: {
        const Varint::Decoded value = Varint::decode(m_message, m_offset);
        if (value.status != Varint::Status::Ok)
            return fail();
        m_offset += value.length;
        field.type = VarintType;
        field.varint = value.value;
        return field;
    }
    case Fixed64Type:
        if (remaining < 8)
            return fail();
        m_offset += 8;
        field.type = Fixed64Type;
        return field;
    case Fixed32Type:
        if (remaining < 4)
            return fail();
        m_offset += 4;
        field.type = Fixed32Type;
        return field;
    case LengthDelimitedType: {
        const Varint::Decoded length = Varint::decode(m_message, m_offset);
        if (length.status != Varint::Status::Ok ||
            length.value > quint64(remaining - length.length))
            return fail();
        m_offset += length.length;
        field.type = LengthDelimitedType;
        field.bytes = m_message.mid(m_offset, qsizetype(length.value));
        m_offset += qsizetype(length.value);
        return field;
    }
    default: // groups (3, 4) are long deprecated and never in libp2p's messages
        return fail();
    }
}
