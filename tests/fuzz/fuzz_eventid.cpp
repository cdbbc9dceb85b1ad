// libFuzzer target: the event ID a client sends back (Last-Event-ID, ?lastEventId=). Property:
// whatever parses writes back as the same text, or a shorter spelling of the same ID (leading
// zeros dropped, hex case folded), which parses to the same ID.
#include "history/eventid.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView text(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto id = EventId::parse(text);
    if (!id)
        return 0;
    const QByteArray written = id->toText();
    const auto again = EventId::parse(written);
    if (!again || !(*again == *id) || written.size() > text.size())
        std::abort();
    return 0;
}
