#pragma once

#include <QByteArray>

#include <functional>
#include <vector>

// multistream-select 1.0 (/multistream/1.0.0) over bytes, for either side: messages are a
// varint length and a line ending in '\n'. The caller feeds what arrives, sends what
// takeOutput() gives, and once agreed hands takeRemainder() (bytes the peer sent after its
// proposal, as js-libp2p does optimistically) to the protocol.
class MultistreamSelect
{
public:
    static constexpr char header[] = "/multistream/1.0.0";
    static constexpr int maxMessageBytes = 1024;
    static constexpr int maxProposals = 16; // "na" answers before a listener gives up

    enum class State
    {
        Negotiating,
        Agreed,
        Failed
    };

    using Supports = std::function<bool(const QByteArray &protocol)>;

    // The listener answers the dialer's proposals, accepting those `supports` says yes to.
    static MultistreamSelect listener(Supports supports);
    // The dialer proposes each protocol in turn until the listener accepts one.
    static MultistreamSelect dialer(std::vector<QByteArray> proposals);

    void feed(const QByteArray &bytes);
    QByteArray takeOutput();
    QByteArray takeRemainder();

    State state() const { return m_state; }
    QByteArray protocol() const { return m_protocol; } // once agreed
    QByteArray error() const { return m_error; }       // once failed

    static QByteArray message(const QByteArray &line); // varint length, line, '\n'

private:
    MultistreamSelect() = default;
    void fail(const QByteArray &why);
    void handle(const QByteArray &line);
    void propose();

    bool m_isDialer = false;
    Supports m_supports;
    std::vector<QByteArray> m_proposals;
    size_t m_nextProposal = 0;
    int m_refused = 0;
    bool m_headerSeen = false;
    State m_state = State::Negotiating;
    QByteArray m_protocol;
    QByteArray m_error;
    QByteArray m_input;
    QByteArray m_output;
};
