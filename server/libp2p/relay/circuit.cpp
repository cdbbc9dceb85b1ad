#include "circuit.h"

#include "libp2p/libp2pstream.h"
#include "relayservice.h"

#include <QLoggingCategory>
#include <QTimer>

Q_DECLARE_LOGGING_CATEGORY(lcRelay)

namespace {

// Written beyond the peer's window so that the stream reports Drained when it empties, which
// is when more is pumped: one Yamux frame's worth.
constexpr qsizetype writeAhead = 16 * 1024;

} // namespace

Circuit::Circuit(std::shared_ptr<RelayService> service, PeerId source, PeerId target)
    : m_service(std::move(service)), m_source(std::move(source)), m_target(std::move(target)),
      m_timer(std::make_unique<QTimer>())
{
    m_timer->setSingleShot(true);
    QObject::connect(m_timer.get(), &QTimer::timeout, [this] {
        if (m_state == State::Connecting) {
            targetRefused("the target did not answer in time");
        } else {
            m_service->count(RelayService::CircuitOutcome::Limited);
            end("duration limit");
        }
    });
    m_timer->start(m_service->limits().connectTimeout);
}

Circuit::~Circuit()
{
    finish();
}

void Circuit::finish()
{
    if (!m_counted)
        return;
    m_counted = false;
    m_timer->stop();
    m_service->circuitEnded(*this);
}

void Circuit::attach(Side side, Libp2pStream &stream)
{
    m_streams[side] = &stream;
}

void Circuit::addEarly(Side side, const QByteArray &early)
{
    if (early.isEmpty())
        return;
    Direction &direction = m_directions[side];
    direction.pending.push_back(early);
    direction.preconsumed += early.size();
    direction.received += quint64(early.size());
}

void Circuit::detach(Side side)
{
    m_streams[side] = nullptr;
    if (m_state == State::Ended)
        return;
    if (m_state == State::Connecting) {
        if (side == Target)
            targetRefused("the stop stream ended");
        else
            end("the source went away");
        return;
    }
    // Both ways closed is a stream's normal end: what it sent may still be on its way.
    const bool clean = m_directions[side].finReceived && m_directions[other(side)].finForwarded;
    if (!clean)
        end(side == Source ? "the source's stream was reset" : "the target's stream was reset");
    else if (!m_streams[other(side)] && m_directions[other(side)].finReceived)
        finish();
}

void Circuit::answerSource(RelayMessages::Status status)
{
    Libp2pStream *source = m_streams[Source];
    if (!source)
        return;
    RelayMessages::HopMessage answer;
    answer.type = RelayMessages::HopMessage::StatusType;
    answer.status = status;
    if (status == RelayMessages::Status::Ok)
        answer.limit = m_service->limitMessage();
    source->write(RelayMessages::frame(answer.encode()));
}

void Circuit::targetAccepted()
{
    if (m_state != State::Connecting)
        return;
    const auto self = shared_from_this();
    m_state = State::Open;
    m_timer->stop();
    m_service->count(RelayService::CircuitOutcome::Opened);
    if (m_service->limits().circuitDuration.count() > 0)
        m_timer->start(m_service->limits().circuitDuration);
    answerSource(RelayMessages::Status::Ok);
    qCDebug(lcRelay, "circuit %s -> %s open", qPrintable(m_source.toText()),
            qPrintable(m_target.toText()));
    pump(Source);
    pump(Target);
}

void Circuit::targetRefused(const char *why)
{
    if (m_state != State::Connecting)
        return;
    const auto self = shared_from_this();
    m_state = State::Ended;
    m_service->count(RelayService::CircuitOutcome::Refused);
    qCDebug(lcRelay, "circuit %s -> %s refused: %s", qPrintable(m_source.toText()),
            qPrintable(m_target.toText()), why);
    answerSource(RelayMessages::Status::ConnectionFailed);
    if (Libp2pStream *source = m_streams[Source])
        source->closeWrite();
    if (Libp2pStream *target = m_streams[Target])
        target->reset();
    finish();
}

void Circuit::end(const char *why)
{
    if (m_state == State::Ended)
        return;
    const auto self = shared_from_this();
    m_state = State::Ended;
    qCDebug(lcRelay, "circuit %s -> %s ended: %s (%llu and %llu bytes)",
            qPrintable(m_source.toText()), qPrintable(m_target.toText()), why,
            m_directions[Source].received, m_directions[Target].received);
    // Each reset may run the other connection's handlers: take both first.
    const std::array<Libp2pStream *, 2> streams = m_streams;
    for (Libp2pStream *stream : streams) {
        if (stream)
            stream->reset();
    }
    finish();
}

void Circuit::received(Side from, const QByteArray &bytes)
{
    if (m_state == State::Ended || bytes.isEmpty())
        return;
    Direction &direction = m_directions[from];
    direction.received += quint64(bytes.size());
    const quint64 limit = m_service->limits().circuitBytes;
    if (limit > 0 && direction.received > limit) {
        m_service->count(RelayService::CircuitOutcome::Limited);
        return end("data limit");
    }
    direction.pending.push_back(bytes);
    if (m_state == State::Open)
        pump(from);
}

void Circuit::remoteClosed(Side from)
{
    m_directions[from].finReceived = true;
    if (m_state == State::Open)
        pump(from);
}

void Circuit::drained(Side to)
{
    if (m_state == State::Open)
        pump(other(to));
}

void Circuit::pump(Side from)
{
    Direction &direction = m_directions[from];
    if (direction.pumping)
        return; // the call further up the stack goes on with what was added
    const auto self = shared_from_this();
    direction.pumping = true;
    while (m_state == State::Open && !direction.pending.empty()) {
        Libp2pStream *to = m_streams[other(from)];
        if (!to) {
            end("no stream to hand bytes on to");
            break;
        }
        const qsizetype room = qsizetype(to->sendWindow()) + writeAhead - to->unsentBytes();
        if (room <= 0)
            break; // Drained comes when the peer's window has taken what waits
        const QByteArray &chunk = direction.pending.front();
        const qsizetype length = std::min(room, chunk.size() - direction.offset);
        const QByteArray piece =
            direction.offset == 0 && length == chunk.size()
                ? chunk
                : QByteArray::fromRawData(chunk.constData() + direction.offset, length);
        const qsizetype taken = to->write(piece);
        if (m_state != State::Open || taken <= 0)
            break;
        direction.offset += taken;
        m_service->countRelayed(taken);
        if (direction.offset == chunk.size()) {
            direction.pending.pop_front();
            direction.offset = 0;
        }
        // Only now may the sender send as much again.
        const qsizetype owed = taken - std::min(taken, direction.preconsumed);
        direction.preconsumed -= taken - owed;
        if (Libp2pStream *sender = m_streams[from]; sender && owed > 0)
            sender->consumed(quint32(owed));
    }
    if (m_state == State::Open && direction.pending.empty() && direction.finReceived &&
        !direction.finForwarded) {
        direction.finForwarded = true;
        if (Libp2pStream *to = m_streams[other(from)])
            to->closeWrite();
    }
    direction.pumping = false;
}
