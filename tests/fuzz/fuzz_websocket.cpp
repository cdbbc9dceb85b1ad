// libFuzzer target: what a WebSocket client can send the server, as frames (split anywhere, as
// the network splits them) and as an opening handshake's request target and header lines.
#include "websocket/websocketframes.h"
#include "websocket/websockethandshake.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const QByteArrayView bytes(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const qsizetype split = data[0] % (bytes.size() + 1); // the first byte says where to cut
    WebSocketReader reader(1024);
    reader.read(bytes.first(split));
    reader.read(bytes.sliced(split));
    WebSocketHandshake::validate("GET", bytes);
    WebSocketHandshake::readQuery(bytes);
    return 0;
}
