#include "jsonreader.h"

#include "jsonwriter.h"

namespace {

// Deeper nesting than this is refused: it serves no presence message and bounds the recursion.
constexpr int maxDepth = 256;

bool isWhiteSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Validates JSON values and tells where each one ends.
class Scanner
{
public:
    explicit Scanner(QByteArrayView text) : m_text(text) {}

    qsizetype position() const { return m_pos; }
    bool atEnd() const { return m_pos >= m_text.size(); }

    void skipWhiteSpace()
    {
        while (!atEnd() && isWhiteSpace(m_text[m_pos]))
            ++m_pos;
    }

    bool value(int depth)
    {
        if (atEnd() || depth > maxDepth)
            return false;
        switch (m_text[m_pos]) {
        case '{':
            return object(depth + 1, nullptr);
        case '[':
            return array(depth + 1);
        case '"':
            return string();
        case 't':
            return literal("true");
        case 'f':
            return literal("false");
        case 'n':
            return literal("null");
        default:
            return number();
        }
    }

    // Reads an object; with `members`, also records each member.
    bool object(int depth, QList<JsonReader::Member> *members)
    {
        ++m_pos; // '{'
        skipWhiteSpace();
        if (consume('}'))
            return true;
        for (;;) {
            skipWhiteSpace();
            const qsizetype nameStart = m_pos;
            if (atEnd() || m_text[m_pos] != '"' || !string())
                return false;
            const QByteArrayView name = m_text.sliced(nameStart, m_pos - nameStart);
            skipWhiteSpace();
            if (!consume(':'))
                return false;
            skipWhiteSpace();
            const qsizetype valueStart = m_pos;
            if (!value(depth))
                return false;
            if (members)
                members->append({*JsonReader::decodeString(name),
                                 m_text.sliced(valueStart, m_pos - valueStart)});
            skipWhiteSpace();
            if (consume('}'))
                return true;
            if (!consume(','))
                return false;
        }
    }

    // Reads an array; with `elements`, also records each element's text.
    bool array(int depth, QList<QByteArrayView> *elements = nullptr)
    {
        ++m_pos; // '['
        skipWhiteSpace();
        if (consume(']'))
            return true;
        for (;;) {
            skipWhiteSpace();
            const qsizetype valueStart = m_pos;
            if (!value(depth))
                return false;
            if (elements)
                elements->append(m_text.sliced(valueStart, m_pos - valueStart));
            skipWhiteSpace();
            if (consume(']'))
                return true;
            if (!consume(','))
                return false;
        }
    }

private:
    bool consume(char c)
    {
        if (atEnd() || m_text[m_pos] != c)
            return false;
        ++m_pos;
        return true;
    }

    bool string()
    {
        ++m_pos; // '"'
        while (!atEnd()) {
            const unsigned char c = static_cast<unsigned char>(m_text[m_pos++]);
            if (c == '"')
                return true;
            if (c < 0x20)
                return false;
            if (c != '\\')
                continue;
            if (atEnd())
                return false;
            const char escape = m_text[m_pos++];
            if (escape == 'u') {
                for (int k = 0; k < 4; ++k)
                    if (atEnd() || hexValue(m_text[m_pos++]) < 0)
                        return false;
            } else if (!QByteArrayView("\"\\/bfnrt").contains(escape)) {
                return false;
            }
        }
        return false;
    }

    bool literal(QByteArrayView word)
    {
        if (!m_text.sliced(m_pos).startsWith(word))
            return false;
        m_pos += word.size();
        return true;
    }

    bool digits()
    {
        const qsizetype start = m_pos;
        while (!atEnd() && isDigit(m_text[m_pos]))
            ++m_pos;
        return m_pos > start;
    }

    bool number()
    {
        consume('-');
        if (consume('0')) {
            if (!atEnd() && isDigit(m_text[m_pos]))
                return false; // no leading zeros
        } else if (!digits()) {
            return false;
        }
        if (consume('.') && !digits())
            return false;
        if (consume('e') || consume('E')) {
            if (!consume('+'))
                consume('-');
            if (!digits())
                return false;
        }
        return true;
    }

    QByteArrayView m_text;
    qsizetype m_pos = 0;
};

void appendCodePoint(QByteArray &out, char32_t cp)
{
    if (cp < 0x80) {
        out.append(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.append(static_cast<char>(0xC0 | (cp >> 6)));
        out.append(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.append(static_cast<char>(0xE0 | (cp >> 12)));
        out.append(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.append(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.append(static_cast<char>(0xF0 | (cp >> 18)));
        out.append(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.append(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.append(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// The four hex digits at the front of `s`, or nullopt when there are not four.
std::optional<char32_t> readHex4(QByteArrayView s)
{
    if (s.size() < 4)
        return std::nullopt;
    char32_t v = 0;
    for (int k = 0; k < 4; ++k) {
        const int digit = hexValue(s[k]);
        if (digit < 0)
            return std::nullopt;
        v = v * 16 + static_cast<char32_t>(digit);
    }
    return v;
}

// Whether `text` is exactly one value opening with `opening` (white space around it allowed)
// that `read` accepts.
template <typename Read> bool readWhole(QByteArrayView text, char opening, Read read)
{
    Scanner scanner(text);
    scanner.skipWhiteSpace();
    if (scanner.atEnd() || text[scanner.position()] != opening || !read(scanner))
        return false;
    scanner.skipWhiteSpace();
    return scanner.atEnd();
}

} // namespace

namespace JsonReader {

std::optional<QList<Member>> readObject(QByteArrayView text)
{
    QList<Member> members;
    if (!readWhole(text, '{', [&](Scanner &scanner) { return scanner.object(1, &members); }))
        return std::nullopt;
    return members;
}

std::optional<QList<QByteArrayView>> readArray(QByteArrayView text)
{
    QList<QByteArrayView> elements;
    if (!readWhole(text, '[', [&](Scanner &scanner) { return scanner.array(1, &elements); }))
        return std::nullopt;
    return elements;
}

bool isString(QByteArrayView value)
{
    return value.startsWith('"');
}

bool isNull(QByteArrayView value)
{
    return value == "null";
}

std::optional<QByteArray> decodeString(QByteArrayView value)
{
    // Safe on any bytes, not only on what readObject() validated: a broken string is nullopt.
    if (!isString(value) || value.size() < 2 || !value.endsWith('"'))
        return std::nullopt;
    const QByteArrayView body = value.sliced(1, value.size() - 2);
    if (!body.contains('\\')) {
        QByteArray out;
        JsonWriter::appendSanitizedUtf8(out, body);
        return out;
    }
    QByteArray raw;
    raw.reserve(body.size());
    for (qsizetype i = 0; i < body.size(); ++i) {
        const char c = body[i];
        if (c != '\\') {
            raw.append(c);
            continue;
        }
        if (i + 1 >= body.size())
            return std::nullopt; // a trailing backslash escapes the closing quote
        const char escape = body[++i];
        switch (escape) {
        case 'b':
            raw.append('\b');
            break;
        case 'f':
            raw.append('\f');
            break;
        case 'n':
            raw.append('\n');
            break;
        case 'r':
            raw.append('\r');
            break;
        case 't':
            raw.append('\t');
            break;
        case 'u': {
            const std::optional<char32_t> first = readHex4(body.sliced(i + 1));
            if (!first)
                return std::nullopt;
            char32_t cp = *first;
            i += 4;
            const bool high = cp >= 0xD800 && cp <= 0xDBFF;
            const bool low = cp >= 0xDC00 && cp <= 0xDFFF;
            if (high && i + 6 < body.size() && body[i + 1] == '\\' && body[i + 2] == 'u') {
                const std::optional<char32_t> next = readHex4(body.sliced(i + 3));
                if (next && *next >= 0xDC00 && *next <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (*next - 0xDC00);
                    i += 6;
                    appendCodePoint(raw, cp);
                    break;
                }
            }
            appendCodePoint(raw, high || low ? 0xFFFD : cp);
            break;
        }
        case '"':
        case '\\':
        case '/':
            raw.append(escape);
            break;
        default:
            return std::nullopt;
        }
    }
    QByteArray out;
    JsonWriter::appendSanitizedUtf8(out, raw);
    return out;
}

std::optional<qint64> decodeInteger(QByteArrayView value)
{
    const bool negative = value.startsWith('-');
    const QByteArrayView digits = negative ? value.sliced(1) : value;
    if (digits.isEmpty())
        return std::nullopt;
    quint64 magnitude = 0;
    for (const char c : digits) {
        if (!isDigit(c))
            return std::nullopt;
        const quint64 next = magnitude * 10 + static_cast<quint64>(c - '0');
        if (next / 10 != magnitude)
            return std::nullopt;
        magnitude = next;
    }
    const quint64 limit = negative ? quint64(1) << 63 : (quint64(1) << 63) - 1;
    if (magnitude > limit)
        return std::nullopt;
    return negative ? static_cast<qint64>(0 - magnitude) : static_cast<qint64>(magnitude);
}

QByteArray compact(QByteArrayView value)
{
    QByteArray out;
    out.reserve(value.size());
    for (qsizetype i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (isWhiteSpace(c))
            continue;
        if (c != '"') {
            out.append(c);
            continue;
        }
        const qsizetype start = i++;
        while (i < value.size() && value[i] != '"')
            i += value[i] == '\\' ? 2 : 1;
        i = qMin(i, value.size() - 1); // an unterminated string ends with the text
        JsonWriter::appendSanitizedUtf8(out, value.sliced(start, i - start + 1));
    }
    return out;
}

} // namespace JsonReader
