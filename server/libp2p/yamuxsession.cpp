#include "yamuxsession.h"

#include <QtEndian>

YamuxSession::YamuxSession(Role role, Options options)
    : m_role(role), m_options(options), m_nextStreamId(role == Role::Client ? 1 : 2)
{}

void YamuxSession::sendHeader(FrameType type, quint16 flags, quint32 stream, quint32 length)
{
    char header[headerBytes];
    header[0] = 0; // version
    header[1] = char(type);
    qToBigEndian(flags, header + 2);
    qToBigEndian(stream, header + 4);
    qToBigEndian(length, header + 8);
    m_output.append(header, headerBytes);
}

quint16 YamuxSession::takeOpeningFlags(Stream &stream)
{
    quint16 flags = 0;
    if (stream.synPending)
        flags |= Syn;
    if (stream.ackPending)
        flags |= Ack;
    stream.synPending = stream.ackPending = false;
    return flags;
}

void YamuxSession::protocolError(const QByteArray &why)
{
    if (m_failed)
        return;
    goAway(ProtocolError);
    m_failed = true;
    m_error = why;
    m_input.clear();
    for (const auto &[id, stream] : m_streams)
        m_events.push_back({Event::Reset, id, {}});
    m_streams.clear();
}

quint32 YamuxSession::openStream()
{
    if (m_failed || m_wentAway || m_remoteWentAway || streamCount() >= m_options.maxStreams ||
        m_nextStreamId > 0xfffffffdu)
        return 0;
    const quint32 id = m_nextStreamId;
    m_nextStreamId += 2;
    Stream &stream = m_streams[id];
    stream.synPending = true;
    // Open at once with a window update carrying SYN, as go- and js-yamux do.
    sendHeader(WindowUpdate, takeOpeningFlags(stream), id, 0);
    return id;
}

qsizetype YamuxSession::unsentBytes(quint32 stream) const
{
    const auto it = m_streams.find(stream);
    return it == m_streams.end() ? 0 : it->second.unsent.size();
}

quint32 YamuxSession::sendWindow(quint32 stream) const
{
    const auto it = m_streams.find(stream);
    return it == m_streams.end() ? 0 : it->second.sendWindow;
}

qsizetype YamuxSession::write(quint32 id, const QByteArray &bytes)
{
    const auto it = m_streams.find(id);
    if (it == m_streams.end() || it->second.finQueued)
        return 0;
    Stream &stream = it->second;
    const qsizetype room = m_options.maxUnsentBytes - stream.unsent.size();
    const qsizetype taken = qBound(qsizetype(0), bytes.size(), room);
    stream.unsent.append(bytes.constData(), taken);
    flush(id, stream);
    return taken;
}

void YamuxSession::flush(quint32 id, Stream &stream)
{
    const bool hadUnsent = !stream.unsent.isEmpty();
    while (!stream.unsent.isEmpty() && stream.sendWindow > 0) {
        const quint32 length =
            quint32(std::min<qsizetype>({stream.unsent.size(), qsizetype(stream.sendWindow),
                                         qsizetype(m_options.maxFrameBytes)}));
        quint16 flags = takeOpeningFlags(stream);
        const bool last = qsizetype(length) == stream.unsent.size();
        if (last && stream.finQueued && !stream.finSent) {
            flags |= Fin;
            stream.finSent = true;
        }
        sendHeader(Data, flags, id, length);
        m_output.append(stream.unsent.constData(), length);
        stream.unsent.remove(0, length);
        stream.sendWindow -= length;
    }
    if (stream.unsent.isEmpty() && stream.finQueued && !stream.finSent) {
        sendHeader(WindowUpdate, quint16(takeOpeningFlags(stream) | Fin), id, 0);
        stream.finSent = true;
    }
    if (hadUnsent && stream.unsent.isEmpty())
        m_events.push_back({Event::Drained, id, {}});
}

void YamuxSession::closeWrite(quint32 id)
{
    const auto it = m_streams.find(id);
    if (it == m_streams.end() || it->second.finQueued)
        return;
    it->second.finQueued = true;
    flush(id, it->second);
    removeIfDone(id);
}

void YamuxSession::reset(quint32 id)
{
    if (m_streams.erase(id) == 0)
        return;
    sendHeader(WindowUpdate, Rst, id, 0);
}

void YamuxSession::consumed(quint32 id, quint32 bytes)
{
    const auto it = m_streams.find(id);
    if (it == m_streams.end() || it->second.finReceived)
        return;
    Stream &stream = it->second;
    stream.consumedUnacknowledged += bytes;
    // Updates in halves of the window, so that a busy stream costs few frames.
    if (stream.consumedUnacknowledged >= initialWindow / 2) {
        sendHeader(WindowUpdate, takeOpeningFlags(stream), id, stream.consumedUnacknowledged);
        stream.receiveWindow += stream.consumedUnacknowledged;
        stream.consumedUnacknowledged = 0;
    }
}

void YamuxSession::goAway(GoAwayCode code)
{
    if (m_failed || m_wentAway)
        return;
    m_wentAway = true;
    sendHeader(GoAway, 0, 0, code);
}

void YamuxSession::removeIfDone(quint32 id)
{
    const auto it = m_streams.find(id);
    if (it != m_streams.end() && it->second.finSent && it->second.finReceived)
        m_streams.erase(it);
}

YamuxSession::Stream *YamuxSession::acceptOrFind(quint16 flags, quint32 id, bool *refused)
{
    *refused = false;
    const auto it = m_streams.find(id);
    if (!(flags & Syn))
        return it == m_streams.end() ? nullptr : &it->second;
    const bool peersParity = (id % 2 == 1) == (m_role == Role::Server);
    if (it != m_streams.end() || !peersParity) {
        protocolError("a SYN for a stream ID that is in use or not the peer's");
        return nullptr;
    }
    if (m_wentAway || streamCount() >= m_options.maxStreams) {
        sendHeader(WindowUpdate, Rst, id, 0);
        *refused = true;
        return nullptr;
    }
    Stream &stream = m_streams[id];
    stream.ackPending = true;
    m_events.push_back({Event::Opened, id, {}});
    // Acknowledged at once, as a window update with no increment.
    sendHeader(WindowUpdate, takeOpeningFlags(stream), id, 0);
    return &stream;
}

void YamuxSession::handleFrame(quint8 type, quint16 flags, quint32 id, quint32 length,
                               const QByteArray &payload)
{
    if (type == Ping) {
        if (id != 0)
            return protocolError("a ping on a stream");
        if (flags & Syn)
            sendHeader(Ping, Ack, 0, length);
        return;
    }
    if (type == GoAway) {
        m_remoteWentAway = true;
        return;
    }
    if (id == 0)
        return protocolError("stream 0 used for data");
    bool refused = false;
    Stream *stream = acceptOrFind(flags, id, &refused);
    if (m_failed)
        return;
    if (!stream) {
        // A stream we reset or refused: its frames are dropped (what it sends costs no window
        // of ours, as the stream is gone).
        return;
    }
    if (type == WindowUpdate) {
        if (quint64(stream->sendWindow) + length > 0xffffffffu)
            return protocolError("a window beyond 4 GiB");
        stream->sendWindow += length;
    } else if (!payload.isEmpty()) {
        if (stream->finReceived)
            return protocolError("data after FIN");
        if (quint32(payload.size()) > stream->receiveWindow)
            return protocolError("data beyond the window we granted");
        stream->receiveWindow -= quint32(payload.size());
        m_events.push_back({Event::Received, id, payload});
    }
    if (flags & Rst) {
        m_streams.erase(id);
        m_events.push_back({Event::Reset, id, {}});
        return;
    }
    if (flags & Fin && !stream->finReceived) {
        stream->finReceived = true;
        m_events.push_back({Event::RemoteClosed, id, {}});
    }
    flush(id, *stream);
    removeIfDone(id);
}

void YamuxSession::feed(const QByteArray &bytes)
{
    if (m_failed)
        return;
    m_input.append(bytes);
    qsizetype offset = 0;
    while (!m_failed && m_input.size() - offset >= headerBytes) {
        const char *header = m_input.constData() + offset;
        const quint8 version = quint8(header[0]);
        const quint8 type = quint8(header[1]);
        const quint16 flags = qFromBigEndian<quint16>(header + 2);
        const quint32 id = qFromBigEndian<quint32>(header + 4);
        const quint32 length = qFromBigEndian<quint32>(header + 8);
        if (version != 0 || type > GoAway)
            return protocolError("an unknown version or frame type");
        quint32 payloadBytes = 0;
        if (type == Data) {
            // No stream's window is ever larger than what we granted, so a longer frame is
            // an error before its bytes arrive: the input stays bounded.
            const auto it = m_streams.find(id);
            const quint32 limit = it == m_streams.end() ? initialWindow : it->second.receiveWindow;
            if (length > limit)
                return protocolError("data beyond the window we granted");
            payloadBytes = length;
        }
        if (m_input.size() - offset - headerBytes < qsizetype(payloadBytes))
            break;
        const QByteArray payload = m_input.mid(offset + headerBytes, payloadBytes);
        offset += headerBytes + payloadBytes;
        handleFrame(type, flags, id, length, payload);
    }
    if (!m_failed)
        m_input.remove(0, offset);
}
