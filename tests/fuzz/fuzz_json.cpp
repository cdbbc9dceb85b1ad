// libFuzzer target: the JSON reader on any bytes, as a publish body or a WebSocket frame brings
// them: the object reader and the presence-message parser, and the decoders on their own.
#include "jsonreader.h"
#include "presencemessage.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    PresenceMessage::parse(bytes);
    PresenceMessage::parse(bytes, PresenceMessage::Source::Server);
    JsonReader::readArray(bytes);
    JsonReader::decodeString(bytes);
    JsonReader::decodeInteger(bytes);
    JsonReader::compact(bytes);
    return 0;
}
