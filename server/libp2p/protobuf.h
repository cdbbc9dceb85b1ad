#pragma once

// A minimal protobuf reader and writer. Written by hand because libp2p's messages are few,
// tiny and fixed (keys, the Noise handshake payload, identify): a generated-code dependency and
// protoc in the build would cost more than these two hundred lines, and a reader that knows
// only varint and length-delimited fields is easier to bound against hostile input.

#include <QByteArray>

#include <optional>

class ProtobufWriter
{
public:
    void addVarint(int field, quint64 value);
    void addBytes(int field, const QByteArray &value);
    void addString(int field, const QByteArray &utf8) { addBytes(field, utf8); }

    const QByteArray &bytes() const { return m_bytes; }

private:
    QByteArray m_bytes;
};

// Walks the fields of one message in order; unknown fields are the caller's to ignore. Fixed
// 32- and 64-bit fields are skipped over; groups and lengths beyond the message are malformed.
class ProtobufReader
{
public:
    enum WireType
    {
        VarintType = 0,
        Fixed64Type = 1,
        LengthDelimitedType = 2,
        Fixed32Type = 5
    };

    struct Field
    {
        int number = 0;
        WireType type = VarintType;
        quint64 varint = 0; // for VarintType
        QByteArray bytes;   // for LengthDelimitedType
    };

    explicit ProtobufReader(const QByteArray &message) : m_message(message) {}

    // The next field, or nothing at the end of the message or on malformed input (then
    // failed() is true and the reader stays failed).
    std::optional<Field> next();
    bool failed() const { return m_failed; }
    bool atEnd() const { return m_offset >= m_message.size(); }

private:
    std::optional<Field> fail();

    QByteArray m_message;
    qsizetype m_offset = 0;
    bool m_failed = false;
};
