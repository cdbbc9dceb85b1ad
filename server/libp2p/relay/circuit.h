#pragma once

#include "libp2p/peerid.h"
#include "relaymessages.h"

#include <QByteArray>

#include <array>
#include <deque>
#include <memory>

class Libp2pStream;
class QTimer;
class RelayService;

// One relayed connection: the source's hop stream and the target's stop stream. While the
// target is asked, what the source sends waits; once the target accepts, each side's bytes go
// to the other only as fast as the other's Yamux window takes them (both streams give window
// back by hand), and the circuit ends, both streams reset, when it outlives its duration or a
// direction carries more than its data limit (circuit-v2.md, "Limit").
class Circuit : public std::enable_shared_from_this<Circuit>
{
public:
    enum Side
    {
        Source = 0,
        Target = 1
    };

    // Counted in `service` from here until it ends.
    Circuit(std::shared_ptr<RelayService> service, PeerId source, PeerId target);
    ~Circuit();

    PeerId source() const { return m_source; }
    PeerId target() const { return m_target; }
    bool isOpen() const { return m_state == State::Open; }
    bool hasEnded() const { return m_state == State::Ended; }

    // A side's stream, from its handler. Its bytes count as consumed by hand (see
    // Libp2pStream::setManualFlowControl) once the circuit has them; `early` is what came
    // after the handshake message, already given back to the peer's window.
    void attach(Side side, Libp2pStream &stream);
    void addEarly(Side side, const QByteArray &early);
    // The handler of a side is going away with its stream.
    void detach(Side side);

    // The target answered the stop stream.
    void targetAccepted();
    void targetRefused(const char *why);

    void received(Side from, const QByteArray &bytes);
    void remoteClosed(Side from);
    void drained(Side to);

    void end(const char *why); // resets both streams

private:
    enum class State
    {
        Connecting,
        Open,
        Ended
    };

    // The bytes from one side on their way to the other.
    struct Direction
    {
        std::deque<QByteArray> pending; // as received, not copied
        qsizetype offset = 0;           // into pending.front(), already handed on
        qsizetype preconsumed = 0;      // pending bytes the peer's window already has back
        quint64 received = 0;
        bool pumping = false;
        bool finReceived = false;
        bool finForwarded = false;
    };

    static Side other(Side side) { return side == Source ? Target : Source; }
    void pump(Side from);
    void finish(); // stops counting this circuit
    void answerSource(RelayMessages::Status status);

    std::shared_ptr<RelayService> m_service;
    const PeerId m_source;
    const PeerId m_target;
    State m_state = State::Connecting;
    bool m_counted = true;
    std::array<Libp2pStream *, 2> m_streams{};
    std::array<Direction, 2> m_directions;
    std::unique_ptr<QTimer> m_timer; // the target's time to answer, then the duration limit
};
