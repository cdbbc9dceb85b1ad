// libFuzzer target: the event-stream parser the monitor reads a server with, on any bytes split
// anywhere (the first byte says where). Property: the events do not depend on where the bytes
// were cut.
#include "sseparser.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const QByteArrayView bytes(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const qsizetype split = data[0] % (bytes.size() + 1);
    SseParser whole;
    const QList<SseParser::Event> once = whole.feed(bytes);
    SseParser pieces;
    QList<SseParser::Event> cut = pieces.feed(bytes.first(split));
    cut += pieces.feed(bytes.sliced(split));
    if (cut.size() != once.size())
        std::abort();
    for (qsizetype i = 0; i < once.size(); ++i) {
        if (cut[i].type != once[i].type || cut[i].data != once[i].data || cut[i].id != once[i].id)
            std::abort();
    }
    return 0;
}
