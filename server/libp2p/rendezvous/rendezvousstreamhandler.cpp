#include "rendezvousstreamhandler.h"

#include "libp2p/libp2pstream.h"
#include "libp2p/varint.h"
#include "rendezvousmessage.h"
#include "rendezvouspoint.h"

void RendezvousStreamHandler::received(Libp2pStream &stream, const QByteArray &bytes)
{
    m_input.append(bytes);
    answerWhatIsWhole(stream);
}

void RendezvousStreamHandler::remoteClosed(Libp2pStream &stream)
{
    m_remoteClosed = true;
    answerWhatIsWhole(stream);
}

void RendezvousStreamHandler::drained(Libp2pStream &stream)
{
    sendPending(stream);
    answerWhatIsWhole(stream);
}

void RendezvousStreamHandler::answerWhatIsWhole(Libp2pStream &stream)
{
    while (m_pending.isEmpty()) {
        const Varint::Decoded length = Varint::decode(m_input);
        if (length.status == Varint::Status::Incomplete)
            break;
        if (length.status == Varint::Status::Malformed || length.value > maxMessageBytes) {
            stream.reset();
            return;
        }
        if (m_input.size() - length.length < qsizetype(length.value))
            break;
        const auto request =
            RendezvousMessage::decode(m_input.mid(length.length, qsizetype(length.value)));
        m_input.remove(0, length.length + qsizetype(length.value));
        if (!request) {
            stream.reset();
            return;
        }
        if (const auto answer = m_point.handle(*request, stream.remotePeer())) {
            const QByteArray bytes = answer->encode();
            m_pending = Varint::encode(quint64(bytes.size())) + bytes;
            sendPending(stream);
        }
    }
    // While an answer waits, one more request may queue behind it; more than that is refused.
    if (m_input.size() > maxMessageBytes + Varint::maxBytes) {
        stream.reset();
        return;
    }
    if (m_remoteClosed && m_pending.isEmpty())
        stream.closeWrite();
}

void RendezvousStreamHandler::sendPending(Libp2pStream &stream)
{
    if (m_pending.isEmpty())
        return;
    m_pending.remove(0, stream.write(m_pending));
}
