#pragma once

#include <QByteArray>

class Libp2pStream;

// What runs one protocol on one negotiated stream. The stream outlives every call; a handler
// may write, close or reset it from any of them.
class StreamHandler
{
public:
    virtual ~StreamHandler() = default;
    virtual void opened(Libp2pStream &stream) { (void)stream; }
    virtual void received(Libp2pStream &stream, const QByteArray &bytes) = 0;
    // The peer will send no more; by default we end our side too.
    virtual void remoteClosed(Libp2pStream &stream);
    virtual void drained(Libp2pStream &stream) { (void)stream; }
};
