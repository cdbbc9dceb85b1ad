#pragma once

#include <QByteArray>
#include <QByteArrayView>

// The header lines of an HTTP head, after its request line: "Name: value" lines ending in CRLF
// or LF. The server reads a request's headers straight from its bytes; these are the walks.
namespace HeaderLines {

// Calls `visit(name, value)` for each line with a name, in order; values trimmed.
template <typename Visit> void forEach(QByteArrayView headerLines, Visit visit)
{
    for (qsizetype start = 0; start < headerLines.size();) {
        qsizetype end = headerLines.indexOf('\n', start);
        if (end < 0)
            end = headerLines.size();
        const QByteArrayView line = headerLines.sliced(start, end - start);
        start = end + 1;
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            visit(line.first(colon), line.sliced(colon + 1).trimmed());
    }
}

// The value of the first header named `name` (case-insensitively), trimmed; null when none.
inline QByteArray value(QByteArrayView headerLines, QByteArrayView name)
{
    QByteArray found;
    bool seen = false;
    forEach(headerLines, [&](QByteArrayView lineName, QByteArrayView lineValue) {
        if (!seen && lineName.compare(name, Qt::CaseInsensitive) == 0) {
            found = lineValue.toByteArray();
            seen = true;
        }
    });
    return found;
}

} // namespace HeaderLines
