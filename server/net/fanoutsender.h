#pragma once

#include "socketio.h"

#include <memory>
#include <vector>

// Offers the same bytes to many sockets at once, never waiting: how an event-stream writer sends
// each event to every stream. With 10,000 streams nearly all of an event's cost is the kernel's
// work for those sends, so how they reach the kernel matters: on Linux one io_uring submission
// carries all of a writer's sends, which delivers an event to 10,000 subscribers in about 60 %
// of the time one send() per socket takes (README, Performance). Elsewhere, and where the kernel
// refuses io_uring (seccomp, the kernel.io_uring_disabled sysctl), it is one send() per socket.
// One thread uses a sender at a time.
class FanOutSender
{
public:
    // `maxBatch`: sends per io_uring submission (io_uring only; the tests try small ones).
    static std::unique_ptr<FanOutSender> create(SocketIo::Calls calls = SocketIo::Calls::Best,
                                                unsigned maxBatch = kDefaultBatch);

    // A writer's whole fan-out in one call up to 8,192 streams (16,384 subscribers on two
    // writers), for ~800 KB of ring. The kernel carries out a submission without giving the core
    // up, which is most of the gain: measured with 10,000 subscribers on two writers, batches of
    // 1,024 or 4,096 took 20-40 % longer than one call per writer. The price: a request arriving
    // meanwhile waits for a core up to the whole fan-out (50-90 ms for 10,000 streams on two
    // shared cores; ~7 ms with one send() per socket, 90-160 ms with the Go reference).
    static constexpr unsigned kDefaultBatch = 8192;
    virtual ~FanOutSender() = default;

    // taken[i] becomes what sockets[i] took, as with SocketIo::sendNow: all, part or none of
    // `size` bytes, or -1 when the connection is gone.
    virtual void sendToEach(const std::vector<SocketIo::Handle> &sockets, const char *data,
                            qint64 size, std::vector<qint64> &taken) = 0;

    // "io_uring" or "send()", and why not io_uring when it was wanted but refused: for the log.
    virtual QString description() const = 0;
};
