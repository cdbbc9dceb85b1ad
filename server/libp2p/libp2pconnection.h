#pragma once

#include "identitykey.h"
#include "libp2pstream.h"
#include "multiaddr.h"
#include "multistreamselect.h"
#include "noisesession.h"
#include "peerid.h"
#include "protocolregistry.h"
#include "yamuxsession.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>

// One libp2p connection over a byte pipe, either side: multistream-select to /noise, the
// Noise XX handshake, multistream-select to /yamux/1.0.0, then streams, each negotiated with
// multistream-select and run by a handler from the registry. Knows no sockets: bytes come in
// through feed() and go out through the `send` function.
class Libp2pConnection
{
public:
    enum class Direction
    {
        Inbound, // we listen: Noise responder, Yamux server
        Outbound
    };
    enum class Stage
    {
        SecurityNegotiation,
        Handshake,
        MuxerNegotiation,
        Ready,
        Closed
    };
    struct Options
    {
        YamuxSession::Options yamux;
    };

    using Send = std::function<void(const QByteArray &bytes)>;

    Libp2pConnection(Direction direction, const IdentityKey &identity,
                     const ProtocolRegistry &registry, Multiaddr remoteAddress, Send send,
                     Options options = {}, std::optional<PeerId> expectedPeer = std::nullopt);
    ~Libp2pConnection();

    void feed(const QByteArray &bytes);
    // Opens a stream proposing `protocols` in turn; the handler hears of it once one is agreed.
    Libp2pStream *openStream(std::vector<QByteArray> protocols,
                             std::unique_ptr<StreamHandler> handler);
    void close(); // go away, then nothing more is read or sent

    Stage stage() const { return m_stage; }
    bool isClosed() const { return m_stage == Stage::Closed; }
    QByteArray error() const { return m_error; }
    std::optional<PeerId> remotePeer() const
    {
        return m_noise ? m_noise->remotePeer() : std::nullopt;
    }
    Multiaddr remoteAddress() const { return m_remoteAddress; }
    int streamCount() const { return int(m_streams.size()); }

private:
    friend class Libp2pStream;

    void fail(const QByteArray &why);
    // Feeds the multistream-select under way (its answers go out through `out`): once agreed,
    // the bytes that came after it; nothing while it goes on, or when it failed (then closed).
    std::optional<QByteArray> negotiate(const QByteArray &bytes, const Send &out, const char *what);
    void handlePlaintext(const QByteArray &bytes);
    void handleYamuxEvents();
    void handleStreamBytes(Libp2pStream &stream, const QByteArray &bytes);
    void resetStream(Libp2pStream &stream); // marks it, so that nothing more reaches its handler
    void flush();
    void sendSecure(const QByteArray &plaintext);

    Direction m_direction;
    IdentityKey m_identity;
    const ProtocolRegistry &m_registry;
    Multiaddr m_remoteAddress;
    Send m_send;
    Options m_options;
    std::optional<PeerId> m_expectedPeer;
    Stage m_stage = Stage::SecurityNegotiation;
    QByteArray m_error;
    std::optional<MultistreamSelect> m_select;
    std::optional<NoiseSession> m_noise;
    std::optional<YamuxSession> m_yamux;
    std::map<quint32, std::unique_ptr<Libp2pStream>> m_streams;
    bool m_flushing = false;
};
