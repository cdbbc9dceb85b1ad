#pragma once

#include <QByteArray>
#include <QByteArrayView>

// Go's %q (strconv.Quote): `"…"` with printable characters as they are and the rest escaped.
// The Go server words `unknown type "X"` this way, and log lines quote peer text with it, so
// that a peer cannot forge log lines.
QByteArray goQuoted(QByteArrayView utf8);
