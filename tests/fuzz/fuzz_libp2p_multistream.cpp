// libFuzzer target: what a libp2p peer can send during multistream-select, to our listener
// and to our dialer, split anywhere. A listener only ever agrees to a protocol it supports.
#include "libp2p/multistreamselect.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const QByteArray bytes(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const qsizetype split = data[0] % (bytes.size() + 1); // the first byte says where to cut
    const auto supports = [](const QByteArray &p) { return p == "/ipfs/ping/1.0.0"; };

    auto listener = MultistreamSelect::listener(supports);
    listener.feed(bytes.left(split));
    listener.feed(bytes.mid(split));
    listener.takeOutput();
    if (listener.state() == MultistreamSelect::State::Agreed &&
        listener.protocol() != "/ipfs/ping/1.0.0")
        std::abort();
    listener.takeRemainder();

    auto dialer = MultistreamSelect::dialer({"/noise", "/ipfs/ping/1.0.0"});
    dialer.feed(bytes.left(split));
    dialer.feed(bytes.mid(split));
    if (dialer.state() == MultistreamSelect::State::Agreed && dialer.protocol() != "/noise" &&
        dialer.protocol() != "/ipfs/ping/1.0.0")
        std::abort();
    return 0;
}
