#pragma once

#include "streamwriter.h"

#include <QByteArray>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

class ConnectionBudget;

// The fan-out of events to every subscriber, on /events (SSE) and /ws (WebSocket). Streams live
// outside Qt's event loops: each is a bare socket owned by one of a few writer threads that wait
// on a SocketPoller (epoll on Linux), so that tens of thousands of idle streams cost neither a
// QTcpSocket each nor a scan at every event-loop wake-up (QT64.md), and each event is framed
// once per kind of stream for all of them.
//
// A stream whose unsent bytes exceed the backlog cap is disconnected (its client reconnects and
// reloads /peers.json); a stream that keeps up never loses an event. All members are
// thread-safe.
class EventHub
{
public:
    struct Options : StreamWriter::Options
    {
        int writerThreads = 2;
    };
    using WebSocketEvents = StreamWriter::WebSocketEvents;

    EventHub(const Options &options, ConnectionBudget &budget,
             WebSocketEvents webSocketEvents = {});
    ~EventHub(); // closes every stream and stops the writers

    // Takes over `socket` (connected, non-blocking; it counts in the budget from now on).
    // `greeting` (the response head and `: ok`) is sent first; every event broadcast after this
    // call follows it.
    // `place` is held until the stream ends (a per-client place, AddressPlaces).
    // `replay` (events kept by the EventHistory) follows the greeting, before the live events.
    // `punchHints` false: the stream gets no punch hints (an observer's, `/events?punch=0`).
    void subscribe(SocketIo::Handle socket, const QByteArray &greeting,
                   std::shared_ptr<void> place = {},
                   std::vector<StreamWriter::SharedPiece> replay = {}, bool punchHints = true);
    // The same for a WebSocket (`greeting`: the 101 answer); returns the stream's id.
    quint64 subscribeWebSocket(SocketIo::Handle socket, const QByteArray &greeting,
                               std::shared_ptr<void> place = {});

    using Content = StreamWriter::Content;
    // Sends one event to every stream, in the order of the calls: `eventStreamFrame` (complete
    // SSE frames) on /events, `webSocketFrame` on WebSockets.
    void broadcast(const QByteArray &eventStreamFrame, const QByteArray &webSocketFrame = {},
                   Content content = Content::Event);
    // One event (a line of JSON), framed for each kind of stream that has subscribers now.
    void broadcastEvent(const QByteArray &jsonLine, Content content = Content::Event);
    // A frame for one WebSocket, in order with the events broadcast around it.
    void sendTo(quint64 webSocket, const QByteArray &webSocketFrame);
    // Ends one WebSocket with a close frame of `code`, after what is queued for it.
    void close(quint64 webSocket, quint16 code);

    // Ends every stream (at shutdown), after a last attempt to send what is pending.
    void closeAll();
    // Ends every stream and waits for the writers to end: from here on nothing calls the
    // WebSocketEvents, and only the counts may still be asked for. For an owner whose
    // WebSocketEvents go to something that dies before this hub.
    void stopWriters() { m_writers.clear(); }

    int subscriberCount() const;
    int webSocketCount() const;
    // The streams a punch hint broadcast now would reach: all but `/events?punch=0`.
    int punchHintAudience() const;
    QString sendMethod() const; // how the writers send, for the log: FanOutSender::description()
    using Kind = StreamWriter::Kind;
    // Streams dropped for falling behind; events (and hints) handed to streams, one per stream.
    qint64 droppedCount(Kind kind = Kind::EventStream) const
    {
        return m_counters.dropped[int(kind)].load();
    }
    qint64 deliveredCount(Kind kind = Kind::EventStream) const
    {
        return m_counters.delivered[int(kind)].load();
    }
    // Memory held for bytes streams have not taken yet (at most Options::maxTotalBacklogBytes).
    qint64 backlogBytes() const { return m_counters.backlogBytes.load(); }

private:
    StreamWriter &writerFor(quint64 id) const { return *m_writers[id % m_writers.size()]; }

    StreamWriter::Counters m_counters; // before the writers, which use it until they end
    std::vector<std::unique_ptr<StreamWriter>> m_writers;
    std::atomic<quint64> m_nextId{0};
};
