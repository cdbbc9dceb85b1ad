#include "pinghandler.h"

#include "libp2pstream.h"

void PingHandler::received(Libp2pStream &stream, const QByteArray &bytes)
{
    m_partial.append(bytes);
    const qsizetype whole = m_partial.size() - m_partial.size() % payloadBytes;
    if (whole == 0)
        return;
    // A peer that sends pings faster than it reads the answers is reset, not buffered for.
    if (stream.write(m_partial.left(whole)) != whole) {
        stream.reset();
        return;
    }
    m_partial.remove(0, whole);
}
