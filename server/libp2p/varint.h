#pragma once

#include <QByteArray>

#include <optional>

// Unsigned LEB128 varints, as multiformats and protobuf use them. Readers take a view of
// untrusted bytes and never read past its end.
namespace Varint {

// At most ten bytes carry 64 bits; multiformats allow nine (63 bits), protobuf ten.
constexpr int maxBytes = 10;

void append(QByteArray &out, quint64 value);
QByteArray encode(quint64 value);

enum class Status
{
    Ok,
    Incomplete, // the bytes end inside the varint: wait for more
    Malformed   // longer than ten bytes or overflowing 64 bits
};

struct Decoded
{
    Status status = Status::Malformed;
    quint64 value = 0;
    int length = 0;       // bytes the varint took
    bool minimal = false; // no needless trailing zero groups, as multiformats require
};

Decoded decode(const char *data, qsizetype size);
inline Decoded decode(const QByteArray &bytes, qsizetype offset = 0)
{
    return decode(bytes.constData() + offset, bytes.size() - offset);
}

} // namespace Varint
