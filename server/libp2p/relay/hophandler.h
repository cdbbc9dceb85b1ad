#pragma once

#include "libp2p/streamhandler.h"
#include "relaymessages.h"

#include <memory>

class Circuit;
class QTimer;
class RelayService;

// The relay's side of one hop stream: one RESERVE or CONNECT from a client, answered with a
// STATUS; after a CONNECT the stream becomes the source's end of the circuit.
class HopHandler : public StreamHandler
{
public:
    explicit HopHandler(std::shared_ptr<RelayService> service);
    ~HopHandler() override;

    void opened(Libp2pStream &stream) override;
    void received(Libp2pStream &stream, const QByteArray &bytes) override;
    void remoteClosed(Libp2pStream &stream) override;
    void drained(Libp2pStream &stream) override;

private:
    void handle(Libp2pStream &stream, const RelayMessages::HopMessage &request);
    void answer(Libp2pStream &stream, RelayMessages::Status status);

    std::shared_ptr<RelayService> m_service;
    RelayMessages::FrameReader m_reader;
    std::shared_ptr<Circuit> m_circuit;
    bool m_answered = false;
    std::unique_ptr<QTimer> m_requestTimer; // until a circuit, RelayLimits::requestTimeout
};
