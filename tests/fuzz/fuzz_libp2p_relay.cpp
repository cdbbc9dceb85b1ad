// libFuzzer target: what a circuit relay v2 client or target sends us (hop and stop messages,
// their length framing, reservation vouchers in signed envelopes). What decodes encodes to
// bytes that decode to the same encoding.
#include "libp2p/relay/relaymessages.h"
#include "libp2p/relay/reservationvoucher.h"

#include <cstdint>
#include <cstdlib>

using namespace RelayMessages;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));

    if (const auto hop = HopMessage::decode(bytes)) {
        const QByteArray encoded = hop->encode();
        const auto again = HopMessage::decode(encoded);
        if (!again || again->encode() != encoded)
            std::abort();
    }
    if (const auto stop = StopMessage::decode(bytes)) {
        const QByteArray encoded = stop->encode();
        const auto again = StopMessage::decode(encoded);
        if (!again || again->encode() != encoded)
            std::abort();
    }

    // The framing, fed in uneven pieces as Yamux frames would bring it.
    FrameReader reader;
    qsizetype offset = 0;
    for (qsizetype piece = 1; offset < bytes.size(); piece = piece * 2 + 1) {
        const FrameReader::State state = reader.feed(bytes.mid(offset, piece));
        offset += piece;
        if (state == FrameReader::State::Failed)
            break;
        if (state == FrameReader::State::Ready) {
            if (reader.message().size() > maxMessageBytes)
                std::abort();
            HopMessage::decode(reader.message());
            break;
        }
    }

    if (const auto voucher = ReservationVoucher::decode(bytes)) {
        const auto again = ReservationVoucher::decode(voucher->encode());
        if (!again || again->relay != voucher->relay || again->peer != voucher->peer ||
            again->expiration != voucher->expiration)
            std::abort();
    }
    ReservationVoucher::open(bytes);
    return 0;
}
