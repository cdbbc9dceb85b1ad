#include "libp2pconnection.h"

Libp2pStream::Libp2pStream(Libp2pConnection &connection, quint32 id, MultistreamSelect select,
                           std::unique_ptr<StreamHandler> handler)
    : m_connection(connection), m_id(id), m_select(std::move(select)), m_handler(std::move(handler))
{}

PeerId Libp2pStream::remotePeer() const
{
    return *m_connection.remotePeer();
}

Multiaddr Libp2pStream::remoteAddress() const
{
    return m_connection.remoteAddress();
}

qsizetype Libp2pStream::write(const QByteArray &bytes)
{
    if (!m_connection.m_yamux)
        return 0;
    const qsizetype taken = m_connection.m_yamux->write(m_id, bytes);
    m_connection.flush();
    return taken;
}

void Libp2pStream::closeWrite()
{
    if (!m_connection.m_yamux)
        return;
    m_connection.m_yamux->closeWrite(m_id);
    m_connection.flush();
}

void Libp2pStream::consumed(quint32 bytes)
{
    if (!m_connection.m_yamux)
        return;
    m_connection.m_yamux->consumed(m_id, bytes);
    m_connection.flush();
}

quint32 Libp2pStream::sendWindow() const
{
    return m_connection.m_yamux ? m_connection.m_yamux->sendWindow(m_id) : 0;
}

qsizetype Libp2pStream::unsentBytes() const
{
    return m_connection.m_yamux ? m_connection.m_yamux->unsentBytes(m_id) : 0;
}

void Libp2pStream::reset()
{
    if (!m_connection.m_yamux)
        return;
    m_connection.resetStream(*this);
    m_connection.flush();
}

Libp2pConnection::Libp2pConnection(Direction direction, const IdentityKey &identity,
                                   const ProtocolRegistry &registry, Multiaddr remoteAddress,
                                   Send send, Options options, std::optional<PeerId> expectedPeer)
    : m_direction(direction), m_identity(identity), m_registry(registry),
      m_remoteAddress(std::move(remoteAddress)), m_send(std::move(send)), m_options(options),
      m_expectedPeer(std::move(expectedPeer))
{
    const QByteArray noise = NoiseSession::protocolId;
    if (direction == Direction::Inbound)
        m_select = MultistreamSelect::listener([noise](const QByteArray &p) { return p == noise; });
    else
        m_select = MultistreamSelect::dialer({noise});
    m_send(m_select->takeOutput());
}

Libp2pConnection::~Libp2pConnection() = default;

void Libp2pConnection::fail(const QByteArray &why)
{
    if (m_stage == Stage::Closed)
        return;
    m_stage = Stage::Closed;
    m_error = why;
}

void Libp2pConnection::close()
{
    if (m_stage == Stage::Closed)
        return;
    if (m_yamux) {
        m_yamux->goAway(YamuxSession::Normal);
        flush();
    }
    m_stage = Stage::Closed;
}

void Libp2pConnection::sendSecure(const QByteArray &plaintext)
{
    if (plaintext.isEmpty())
        return;
    m_noise->send(plaintext);
    m_send(m_noise->takeOutput());
}

void Libp2pConnection::feed(const QByteArray &bytes)
{
    if (m_stage == Stage::Closed || bytes.isEmpty())
        return;
    if (m_stage == Stage::SecurityNegotiation) {
        const auto remainder = negotiate(bytes, m_send, "security negotiation");
        if (!remainder)
            return;
        m_noise.emplace(m_direction == Direction::Inbound ? NoiseSession::Role::Responder
                                                          : NoiseSession::Role::Initiator,
                        m_identity, m_expectedPeer);
        m_stage = Stage::Handshake;
        m_send(m_noise->takeOutput());
        return feed(*remainder);
    }
    const bool wasEstablished = m_noise->state() == NoiseSession::State::Established;
    m_noise->feed(bytes);
    m_send(m_noise->takeOutput());
    if (m_noise->state() == NoiseSession::State::Failed)
        return fail("noise: " + m_noise->error());
    if (m_noise->state() != NoiseSession::State::Established)
        return;
    if (!wasEstablished) {
        const QByteArray yamux = YamuxSession::protocolId;
        if (m_direction == Direction::Inbound)
            m_select =
                MultistreamSelect::listener([yamux](const QByteArray &p) { return p == yamux; });
        else
            m_select = MultistreamSelect::dialer({yamux});
        m_stage = Stage::MuxerNegotiation;
        sendSecure(m_select->takeOutput());
    }
    handlePlaintext(m_noise->takePlaintext());
}

std::optional<QByteArray> Libp2pConnection::negotiate(const QByteArray &bytes, const Send &out,
                                                      const char *what)
{
    m_select->feed(bytes);
    out(m_select->takeOutput());
    if (m_select->state() == MultistreamSelect::State::Failed) {
        fail(what + QByteArrayLiteral(": ") + m_select->error());
        return std::nullopt;
    }
    if (m_select->state() != MultistreamSelect::State::Agreed)
        return std::nullopt;
    const QByteArray remainder = m_select->takeRemainder();
    m_select.reset();
    return remainder;
}

void Libp2pConnection::handlePlaintext(const QByteArray &bytes)
{
    if (m_stage == Stage::MuxerNegotiation) {
        const auto remainder = negotiate(
            bytes, [this](const QByteArray &out) { sendSecure(out); }, "muxer negotiation");
        if (!remainder)
            return;
        m_yamux.emplace(m_direction == Direction::Inbound ? YamuxSession::Role::Server
                                                          : YamuxSession::Role::Client,
                        m_options.yamux);
        m_stage = Stage::Ready;
        if (remainder->isEmpty())
            return;
        return handlePlaintext(*remainder);
    }
    if (m_stage != Stage::Ready || bytes.isEmpty())
        return;
    m_yamux->feed(bytes);
    flush();
}

void Libp2pConnection::flush()
{
    // Handlers write from inside the event loop below; their bytes go out with the rest.
    if (m_flushing || !m_yamux)
        return;
    m_flushing = true;
    handleYamuxEvents();
    sendSecure(m_yamux->takeOutput());
    m_flushing = false;
    if (m_yamux->failed())
        fail("yamux: " + m_yamux->error());
    else if (m_yamux->remoteWentAway() && m_streams.empty())
        fail("the peer went away");
}

void Libp2pConnection::handleYamuxEvents()
{
    for (std::vector<YamuxSession::Event> events = m_yamux->takeEvents(); !events.empty();
         events = m_yamux->takeEvents()) {
        for (YamuxSession::Event &event : events) {
            if (event.type == YamuxSession::Event::Opened) {
                const ProtocolRegistry &registry = m_registry;
                m_streams[event.stream].reset(
                    new Libp2pStream(*this, event.stream,
                                     MultistreamSelect::listener([&registry](const QByteArray &p) {
                                         return registry.supports(p);
                                     }),
                                     nullptr));
                Libp2pStream &stream = *m_streams[event.stream];
                m_yamux->write(stream.id(), stream.m_select.takeOutput());
                continue;
            }
            const auto it = m_streams.find(event.stream);
            // A stream both sides have closed is gone from Yamux already, but what came with its
            // last frames is still to be handed over; only a reset one hears nothing more.
            if (it == m_streams.end() || it->second->m_reset)
                continue;
            Libp2pStream &stream = *it->second;
            const bool negotiated = stream.m_select.state() == MultistreamSelect::State::Agreed;
            switch (event.type) {
            case YamuxSession::Event::Received:
                if (!stream.m_manualFlowControl)
                    m_yamux->consumed(event.stream, quint32(event.data.size()));
                handleStreamBytes(stream, event.data);
                break;
            case YamuxSession::Event::RemoteClosed:
                if (negotiated && stream.m_handler)
                    stream.m_handler->remoteClosed(stream);
                else
                    resetStream(stream);
                break;
            case YamuxSession::Event::Drained:
                if (negotiated && stream.m_handler)
                    stream.m_handler->drained(stream);
                break;
            default:
                break;
            }
        }
        // Streams Yamux has let go of (both sides closed, or reset) end here, outside any
        // handler call.
        for (auto it = m_streams.begin(); it != m_streams.end();) {
            if (!m_yamux->hasStream(it->first))
                it = m_streams.erase(it);
            else
                ++it;
        }
    }
}

void Libp2pConnection::handleStreamBytes(Libp2pStream &stream, const QByteArray &bytes)
{
    if (stream.m_select.state() == MultistreamSelect::State::Agreed) {
        if (stream.m_handler)
            stream.m_handler->received(stream, bytes);
        return;
    }
    stream.m_select.feed(bytes);
    m_yamux->write(stream.id(), stream.m_select.takeOutput());
    if (stream.m_select.state() == MultistreamSelect::State::Failed) {
        resetStream(stream);
        return;
    }
    if (stream.m_select.state() != MultistreamSelect::State::Agreed)
        return;
    if (!stream.m_handler)
        stream.m_handler = m_registry.create(stream.m_select.protocol());
    if (!stream.m_handler) {
        resetStream(stream);
        return;
    }
    stream.m_handler->opened(stream);
    const QByteArray remainder = stream.m_select.takeRemainder();
    if (!remainder.isEmpty() && !stream.m_reset)
        stream.m_handler->received(stream, remainder);
}

void Libp2pConnection::resetStream(Libp2pStream &stream)
{
    stream.m_reset = true;
    m_yamux->reset(stream.id());
}

Libp2pStream *Libp2pConnection::openStream(std::vector<QByteArray> protocols,
                                           std::unique_ptr<StreamHandler> handler)
{
    if (m_stage != Stage::Ready)
        return nullptr;
    const quint32 id = m_yamux->openStream();
    if (id == 0)
        return nullptr;
    auto stream = std::unique_ptr<Libp2pStream>(new Libp2pStream(
        *this, id, MultistreamSelect::dialer(std::move(protocols)), std::move(handler)));
    Libp2pStream *result = stream.get();
    m_yamux->write(id, stream->m_select.takeOutput());
    m_streams[id] = std::move(stream);
    flush();
    return result;
}
