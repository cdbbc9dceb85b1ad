#include "stophandler.h"

#include "circuit.h"
#include "libp2p/libp2pstream.h"

using namespace RelayMessages;

StopHandler::~StopHandler()
{
    m_circuit->detach(Circuit::Target);
}

void StopHandler::opened(Libp2pStream &stream)
{
    if (m_circuit->hasEnded()) {
        stream.reset(); // the source left while the stream was negotiated
        return;
    }
    m_circuit->attach(Circuit::Target, stream);
    stream.write(frame(m_connect.encode()));
}

void StopHandler::received(Libp2pStream &stream, const QByteArray &bytes)
{
    if (m_accepted) {
        m_circuit->received(Circuit::Target, bytes);
        return;
    }
    switch (m_reader.feed(bytes)) {
    case FrameReader::State::NeedMore:
        return;
    case FrameReader::State::Failed:
        return m_circuit->targetRefused("the target's answer is malformed");
    case FrameReader::State::Ready:
        break;
    }
    const auto answer = StopMessage::decode(m_reader.message());
    if (!answer || answer->type != StopMessage::StatusType || answer->status != Status::Ok)
        return m_circuit->targetRefused("the target refused");
    m_accepted = true;
    // From here the target's bytes are the circuit's, given back to its window as handed on.
    stream.setManualFlowControl(true);
    m_circuit->addEarly(Circuit::Target, m_reader.takeRemainder());
    m_circuit->targetAccepted();
}

void StopHandler::remoteClosed(Libp2pStream &)
{
    if (m_accepted)
        m_circuit->remoteClosed(Circuit::Target);
    else
        m_circuit->targetRefused("the target closed the stop stream");
}

void StopHandler::drained(Libp2pStream &)
{
    if (m_accepted)
        m_circuit->drained(Circuit::Target);
}
