#include "textquote.h"

#include <QString>

#include <algorithm>

namespace {

bool isPlainAscii(char c)
{
    return c >= ' ' && c <= '~' && c != '"' && c != '\\';
}

} // namespace

QByteArray goQuoted(QByteArrayView utf8)
{
    // Peer IDs and most text are plain ASCII: quoted as they are, without decoding (every
    // logged publish quotes its peer's ID).
    if (std::all_of(utf8.begin(), utf8.end(), isPlainAscii))
        return '"' + utf8.toByteArray() + '"';
    QByteArray out = "\"";
    out.reserve(utf8.size() + 2);
    const QString text = QString::fromUtf8(utf8);
    for (qsizetype i = 0; i < text.size(); ++i) {
        char32_t cp = text[i].unicode();
        if (text[i].isHighSurrogate() && i + 1 < text.size() && text[i + 1].isLowSurrogate()) {
            cp = QChar::surrogateToUcs4(text[i], text[i + 1]);
            ++i;
        }
        switch (cp) {
        case '"':
            out += "\\\"";
            continue;
        case '\\':
            out += "\\\\";
            continue;
        case '\a':
            out += "\\a";
            continue;
        case '\b':
            out += "\\b";
            continue;
        case '\f':
            out += "\\f";
            continue;
        case '\n':
            out += "\\n";
            continue;
        case '\r':
            out += "\\r";
            continue;
        case '\t':
            out += "\\t";
            continue;
        case '\v':
            out += "\\v";
            continue;
        }
        const bool printable =
            cp == ' ' || (QChar::isPrint(cp) && QChar::category(cp) != QChar::Separator_Space);
        if (cp < 0x80 && printable) {
            out += char(cp);
        } else if (printable) {
            out += QString::fromUcs4(&cp, 1).toUtf8();
        } else if (cp < 0x80) {
            out += QByteArray("\\x") + QByteArray::number(cp, 16).rightJustified(2, '0');
        } else if (cp < 0x10000) {
            out += QByteArray("\\u") + QByteArray::number(cp, 16).rightJustified(4, '0');
        } else {
            out += QByteArray("\\U") + QByteArray::number(cp, 16).rightJustified(8, '0');
        }
    }
    return out + '"';
}
