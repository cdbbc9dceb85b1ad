#pragma once

#include "libp2p/streamhandler.h"
#include "relaymessages.h"

#include <memory>

class Circuit;

// The relay's side of a stop stream it opened to a circuit's target: the CONNECT, then the
// target's STATUS; once accepted, the stream is the target's end of the circuit.
class StopHandler : public StreamHandler
{
public:
    StopHandler(std::shared_ptr<Circuit> circuit, RelayMessages::StopMessage connect)
        : m_circuit(std::move(circuit)), m_connect(std::move(connect))
    {}
    ~StopHandler() override;

    void opened(Libp2pStream &stream) override;
    void received(Libp2pStream &stream, const QByteArray &bytes) override;
    void remoteClosed(Libp2pStream &stream) override;
    void drained(Libp2pStream &stream) override;

private:
    std::shared_ptr<Circuit> m_circuit;
    RelayMessages::StopMessage m_connect;
    RelayMessages::FrameReader m_reader;
    bool m_accepted = false;
};
