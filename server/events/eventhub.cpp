#include "eventhub.h"

#include "sseframe.h"
#include "websocket/websocketframes.h"

EventHub::EventHub(const Options &options, ConnectionBudget &budget,
                   WebSocketEvents webSocketEvents)
{
    // Each writer keeps its streams within its share of the total backlog.
    const int writers = qMax(1, options.writerThreads);
    StreamWriter::Options each = options;
    each.maxTotalBacklogBytes = options.maxTotalBacklogBytes / writers;
    for (int i = 0; i < writers; ++i)
        m_writers.push_back(
            std::make_unique<StreamWriter>(each, budget, m_counters, webSocketEvents));
}

EventHub::~EventHub() = default;

void EventHub::subscribe(SocketIo::Handle socket, const QByteArray &greeting,
                         std::shared_ptr<void> place, std::vector<StreamWriter::SharedPiece> replay,
                         bool punchHints)
{
    const quint64 id = m_nextId.fetch_add(1);
    writerFor(id).add(id, socket, greeting, StreamWriter::Kind::EventStream, std::move(place),
                      std::move(replay), punchHints);
}

quint64 EventHub::subscribeWebSocket(SocketIo::Handle socket, const QByteArray &greeting,
                                     std::shared_ptr<void> place)
{
    const quint64 id = m_nextId.fetch_add(1);
    writerFor(id).add(id, socket, greeting, StreamWriter::Kind::WebSocket, std::move(place));
    return id;
}

void EventHub::broadcast(const QByteArray &eventStreamFrame, const QByteArray &webSocketFrame,
                         Content content)
{
    for (const auto &writer : m_writers) {
        // No wake-up for a writer with nobody to write to (for a hint: only observers).
        const int unreached = content == Content::PunchHint ? writer->withoutHintsCount() : 0;
        if (writer->count() > unreached)
            writer->post(eventStreamFrame, webSocketFrame, content);
    }
}

void EventHub::broadcastEvent(const QByteArray &jsonLine, Content content)
{
    // A kind with no streams gets no frame: no copy of the event for nobody. A stream added
    // meanwhile is concurrent with the event, as with broadcast()'s own check.
    const int webSockets = webSocketCount();
    const int all = subscriberCount();
    if (all == 0)
        return;
    broadcast(all > webSockets ? SseFrame::data(jsonLine) : QByteArray(),
              webSockets > 0 ? WebSocketFrames::text(jsonLine) : QByteArray(), content);
}

void EventHub::sendTo(quint64 webSocket, const QByteArray &webSocketFrame)
{
    writerFor(webSocket).sendTo(webSocket, webSocketFrame);
}

void EventHub::close(quint64 webSocket, quint16 code)
{
    writerFor(webSocket).close(webSocket, code);
}

void EventHub::closeAll()
{
    for (const auto &writer : m_writers)
        writer->closeAll();
}

int EventHub::subscriberCount() const
{
    int count = 0;
    for (const auto &writer : m_writers)
        count += writer->count();
    return count;
}

int EventHub::webSocketCount() const
{
    int count = 0;
    for (const auto &writer : m_writers)
        count += writer->webSocketCount();
    return count;
}

int EventHub::punchHintAudience() const
{
    int count = 0;
    for (const auto &writer : m_writers)
        count += writer->count() - writer->withoutHintsCount();
    return count;
}

QString EventHub::sendMethod() const
{
    return m_writers.front()->sendMethod();
}
