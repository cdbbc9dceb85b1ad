#pragma once

#include "libp2p/streamhandler.h"

#include <QByteArray>

class RendezvousPoint;

// One /rendezvous/1.0.0 stream: uvarint-length-prefixed messages, each answered in turn. The
// next request is read only once the last answer has gone (a large DISCOVER answer waits for
// the peer's window), so a peer that never reads holds one answer, not many.
class RendezvousStreamHandler : public StreamHandler
{
public:
    // A REGISTER with the largest signed peer record we accept fits with room to spare.
    static constexpr qsizetype maxMessageBytes = 64 * 1024;

    explicit RendezvousStreamHandler(RendezvousPoint &point) : m_point(point) {}

    void received(Libp2pStream &stream, const QByteArray &bytes) override;
    void remoteClosed(Libp2pStream &stream) override;
    void drained(Libp2pStream &stream) override;

private:
    void answerWhatIsWhole(Libp2pStream &stream);
    void sendPending(Libp2pStream &stream);

    RendezvousPoint &m_point;
    QByteArray m_input;
    QByteArray m_pending; // the answer not yet taken by the stream
    bool m_remoteClosed = false;
};
