#include "jsonwriter.h"

namespace {

const char hexDigits[] = "0123456789abcdef";
const char replacementCharacter[] = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid (overlong forms,
// surrogates and code points above U+10FFFF are invalid, as in Go's utf8.DecodeRune).
int validSequenceLength(QByteArrayView s, qsizetype i)
{
    const auto byte = [&](qsizetype k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80)
        return 1;
    const qsizetype left = s.size() - i;
    const auto continuation = [&](qsizetype k) { return (byte(k) & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF)
        return left >= 2 && continuation(i + 1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (left < 3 || !continuation(i + 1) || !continuation(i + 2))
            return 0;
        const unsigned char c1 = byte(i + 1);
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F))
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (left < 4 || !continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3))
            return 0;
        const unsigned char c1 = byte(i + 1);
        if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
            return 0;
        return 4;
    }
    return 0;
}

} // namespace

namespace JsonWriter {

void appendString(QByteArray &out, QByteArrayView utf8)
{
    out.append('"');
    qsizetype runStart = 0;
    const auto flushRun = [&](qsizetype end) {
        if (end > runStart)
            out.append(utf8.data() + runStart, end - runStart);
    };
    for (qsizetype i = 0; i < utf8.size();) {
        const unsigned char c = static_cast<unsigned char>(utf8[i]);
        if (c >= 0x80) {
            const int n = validSequenceLength(utf8, i);
            const bool lineSeparator = n == 3 && c == 0xE2 &&
                                       static_cast<uchar>(utf8[i + 1]) == 0x80 &&
                                       (static_cast<uchar>(utf8[i + 2]) & 0xFE) == 0xA8;
            if (n > 0 && !lineSeparator) {
                i += n;
                continue;
            }
            flushRun(i);
            if (lineSeparator)
                out.append(static_cast<uchar>(utf8[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
            else
                out.append("\\ufffd");
            i += n > 0 ? n : 1;
            runStart = i;
            continue;
        }
        const bool plain = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
        if (plain) {
            ++i;
            continue;
        }
        flushRun(i);
        switch (c) {
        case '"':
            out.append("\\\"");
            break;
        case '\\':
            out.append("\\\\");
            break;
        case '\n':
            out.append("\\n");
            break;
        case '\r':
            out.append("\\r");
            break;
        case '\t':
            out.append("\\t");
            break;
        default:
            out.append("\\u00");
            out.append(hexDigits[c >> 4]);
            out.append(hexDigits[c & 0xF]);
        }
        runStart = ++i;
    }
    flushRun(utf8.size());
    out.append('"');
}

void appendInteger(QByteArray &out, qint64 value)
{
    char buffer[24];
    char *end = buffer + sizeof buffer;
    char *p = end;
    // Work in unsigned arithmetic so that the most negative value does not overflow.
    quint64 magnitude = value < 0 ? 0 - static_cast<quint64>(value) : static_cast<quint64>(value);
    do {
        *--p = static_cast<char>('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        *--p = '-';
    out.append(p, end - p);
}

void appendSanitizedUtf8(QByteArray &out, QByteArrayView utf8)
{
    qsizetype runStart = 0;
    for (qsizetype i = 0; i < utf8.size();) {
        const int n = validSequenceLength(utf8, i);
        if (n > 0) {
            i += n;
            continue;
        }
        out.append(utf8.data() + runStart, i - runStart);
        out.append(replacementCharacter);
        runStart = ++i;
    }
    out.append(utf8.data() + runStart, utf8.size() - runStart);
}

} // namespace JsonWriter
