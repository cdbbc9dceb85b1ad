#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <optional>

// A strict JSON (RFC 8259) reader for one top-level object. It keeps each member's value as the
// raw text it came in, so that fields the server does not know can be passed on unchanged in
// meaning, and decodes only the fields that are asked for.
namespace JsonReader {

struct Member
{
    QByteArray name;     // decoded
    QByteArrayView text; // the value exactly as written, points into the parsed input
};

// The members of `text` in order, if it is exactly one JSON object (white space around it
// allowed). nullopt for anything else: invalid JSON, another type, trailing data.
std::optional<QList<Member>> readObject(QByteArrayView text);

// The elements of `text` (each exactly as written, pointing into it), if it is exactly one JSON
// array; nullopt for anything else.
std::optional<QList<QByteArrayView>> readArray(QByteArrayView text);

bool isString(QByteArrayView value);
bool isNull(QByteArrayView value);

// The decoded UTF-8 content of a string value (invalid UTF-8 and lone surrogates become
// U+FFFD, as in Go), or nullopt if `value` is not a string.
std::optional<QByteArray> decodeString(QByteArrayView value);

// The value of an integer literal (no fraction, no exponent) that fits in 64 bits.
std::optional<qint64> decodeInteger(QByteArrayView value);

// `value` without insignificant white space, so that it fits on one line; strings are kept as
// written, with invalid UTF-8 replaced by U+FFFD.
QByteArray compact(QByteArrayView value);

} // namespace JsonReader
