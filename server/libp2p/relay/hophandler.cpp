#include "hophandler.h"

#include "circuit.h"
#include "libp2p/libp2pstream.h"
#include "relayservice.h"

#include <QTimer>

using namespace RelayMessages;

HopHandler::HopHandler(std::shared_ptr<RelayService> service)
    : m_service(std::move(service)), m_requestTimer(std::make_unique<QTimer>())
{
    m_requestTimer->setSingleShot(true);
}

HopHandler::~HopHandler()
{
    if (m_circuit)
        m_circuit->detach(Circuit::Source);
}

void HopHandler::opened(Libp2pStream &stream)
{
    Libp2pStream *silent = &stream; // the stream outlives its handler and so this timer
    QObject::connect(m_requestTimer.get(), &QTimer::timeout, [silent] { silent->reset(); });
    m_requestTimer->start(m_service->limits().requestTimeout);
}

void HopHandler::answer(Libp2pStream &stream, Status status)
{
    HopMessage message;
    message.type = HopMessage::StatusType;
    message.status = status;
    stream.write(frame(message.encode()));
    stream.closeWrite();
    m_answered = true;
}

void HopHandler::received(Libp2pStream &stream, const QByteArray &bytes)
{
    if (m_circuit) {
        m_circuit->received(Circuit::Source, bytes);
        return;
    }
    if (m_answered)
        return; // one request per stream: what follows the answer is dropped
    switch (m_reader.feed(bytes)) {
    case FrameReader::State::NeedMore:
        return;
    case FrameReader::State::Failed:
        return answer(stream, Status::MalformedMessage);
    case FrameReader::State::Ready:
        break;
    }
    const auto request = HopMessage::decode(m_reader.message());
    if (!request)
        return answer(stream, Status::MalformedMessage);
    handle(stream, *request);
}

void HopHandler::handle(Libp2pStream &stream, const HopMessage &request)
{
    if (request.type == HopMessage::Reserve) {
        stream.write(frame(m_service->reserve(stream).encode()));
        stream.closeWrite();
        m_answered = true;
        return;
    }
    if (request.type != HopMessage::Connect)
        return answer(stream, Status::UnexpectedMessage);
    Status refusal = Status::ConnectionFailed;
    auto circuit = m_service->connect(stream, request, &refusal);
    if (!circuit)
        return answer(stream, refusal);
    m_circuit = std::move(circuit);
    m_requestTimer->stop(); // the circuit has its own limits
    // What the source sent after its CONNECT has had its window given back already.
    m_circuit->addEarly(Circuit::Source, m_reader.takeRemainder());
}

void HopHandler::remoteClosed(Libp2pStream &stream)
{
    if (m_circuit)
        m_circuit->remoteClosed(Circuit::Source);
    else if (!m_answered)
        stream.reset(); // closed before asking anything
}

void HopHandler::drained(Libp2pStream &)
{
    if (m_circuit)
        m_circuit->drained(Circuit::Source);
}
