#pragma once

#include <QByteArray>
#include <QByteArrayView>

// JSON output that matches Go's encoding/json byte for byte, so that clients comparing our
// output with the Go server's see the same bytes.
namespace JsonWriter {

// Appends `utf8` as a quoted JSON string escaped the way Go's json.Marshal does: `<`, `>`, `&`,
// U+2028 and U+2029 as \uXXXX, control characters as \n, \r, \t or \u00XX, and invalid UTF-8
// as U+FFFD.
void appendString(QByteArray &out, QByteArrayView utf8);

void appendInteger(QByteArray &out, qint64 value);

// Appends `utf8` with every invalid UTF-8 sequence replaced by U+FFFD (as Go's decoder does).
void appendSanitizedUtf8(QByteArray &out, QByteArrayView utf8);

} // namespace JsonWriter
