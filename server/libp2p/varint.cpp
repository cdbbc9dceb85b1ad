#include "varint.h"

namespace Varint {

void append(QByteArray &out, quint64 value)
{
    while (value >= 0x80) {
        out.append(char((value & 0x7f) | 0x80));
        value >>= 7;
    }
    out.append(char(value));
}

QByteArray encode(quint64 value)
{
    QByteArray out;
    append(out, value);
    return out;
}

Decoded decode(const char *data, qsizetype size)
{
    Decoded result;
    quint64 value = 0;
    for (int i = 0; i < maxBytes; ++i) {
        if (i >= size) {
            result.status = Status::Incomplete;
            return result;
        }
        const quint64 byte = quint8(data[i]);
        // The tenth byte may only hold the 64th bit.
        if (i == maxBytes - 1 && byte > 1)
            return result;
        value |= (byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            result.status = Status::Ok;
            result.value = value;
            result.length = i + 1;
            result.minimal = i == 0 || byte != 0;
            return result;
        }
    }
    return result;
}

} // namespace Varint
