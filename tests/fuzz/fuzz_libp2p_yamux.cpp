// libFuzzer target: Yamux frames from a libp2p peer, split anywhere, with the application
// reading, writing and closing what opens. The bounds hold: no more streams than the cap, and
// no stream holds more unsent bytes than its cap.
#include "libp2p/yamuxsession.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const QByteArray bytes(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const qsizetype split = data[0] % (bytes.size() + 1);
    YamuxSession::Options options;
    options.maxStreams = 4;
    options.maxUnsentBytes = 1024;
    YamuxSession session(YamuxSession::Role::Server, options);
    const QByteArray reply(700, 'r');
    for (const QByteArray &part : {bytes.left(split), bytes.mid(split)}) {
        session.feed(part);
        for (const YamuxSession::Event &event : session.takeEvents()) {
            if (event.type == YamuxSession::Event::Received) {
                session.consumed(event.stream, quint32(event.data.size()));
                session.write(event.stream, reply);
            } else if (event.type == YamuxSession::Event::RemoteClosed) {
                session.closeWrite(event.stream);
            }
            if (session.unsentBytes(event.stream) > options.maxUnsentBytes)
                std::abort();
        }
        session.takeOutput();
        if (session.streamCount() > options.maxStreams)
            std::abort();
    }
    session.openStream();
    return 0;
}
