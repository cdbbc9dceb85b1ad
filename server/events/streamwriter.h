#pragma once

#include "fanoutsender.h"
#include "socketpoller.h"

#include <QByteArray>
#include <QThread>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

class ConnectionBudget;
class WebSocketReader;

// One writer thread of the EventHub: owns a set of stream sockets, waits on a SocketPoller, and
// offers each batch of frames to every stream at once through a FanOutSender; what a socket does
// not take waits in that stream's backlog until the poller says it is writable again.
//
// A stream is an event stream (SSE: the client only listens) or a WebSocket, whose client also
// speaks: its frames are read here, its messages handed on, its pings answered, and it is
// pinged and timed out.
class StreamWriter
{
public:
    enum class Kind
    {
        EventStream,
        WebSocket
    };
    // What a posted frame is. Punch hints go to every WebSocket and event stream except those
    // opened without them (an observer such as the dashboard, which a crowd's hints would flood).
    enum class Content
    {
        Event,
        PunchHint
    };

    struct Options
    {
        qint64 maxBacklogBytes = 1024 * 1024;              // unsent bytes one stream may hold
        qint64 maxTotalBacklogBytes = 256 * 1024 * 1024;   // what this writer's streams may hold
        std::chrono::milliseconds heartbeat{25000};        // `: ping` on event streams
        std::chrono::milliseconds webSocketPing{5000};     // a ping frame on WebSockets
        std::chrono::milliseconds webSocketTimeout{15000}; // closed after this long silent
        qsizetype maxMessageBytes = 64 * 1024;             // of a WebSocket client's message
        SocketIo::Calls calls = SocketIo::Calls::Best;
        // Events that come less than this after the last batch wait for its end and go out
        // together, one write per stream; 0: each batch at once.
        std::chrono::milliseconds batchWindow{0};
    };

    // What WebSocket clients do, reported from the writer's thread.
    struct WebSocketEvents
    {
        std::function<void(quint64 stream, const QByteArray &text)> message;
        std::function<void(quint64 stream)> closed; // once, whatever the reason
    };

    // Shared by the writers, one of each per kind of stream.
    struct Counters
    {
        std::atomic<qint64> dropped[2]{};    // streams dropped for falling behind
        std::atomic<qint64> delivered[2]{};  // events (and hints) times streams
        std::atomic<qint64> backlogBytes{0}; // memory held for unsent bytes, every stream
    };

    // Bytes several streams send and none may change (a block of the event history): a stream
    // holds a reference while it sends them, not a copy.
    struct SharedPiece
    {
        std::shared_ptr<const QByteArray> bytes;
        qsizetype from = 0;
        qsizetype to = 0;
        // `bytes` are qCompress()ed, `from` and `to` places in what they inflate to: the writer
        // inflates them when the stream gets to them.
        bool packed = false;
    };

    StreamWriter(const Options &options, ConnectionBudget &budget, Counters &counters,
                 WebSocketEvents webSocketEvents = {});
    ~StreamWriter();

    // Takes over `socket`; `greeting` goes first, then `replay`, then every event posted after
    // this call. `place` (a per-client place, AddressPlaces) is held for as long as the stream
    // lives. An event stream added with `punchHints` false gets no hints.
    void add(quint64 id, SocketIo::Handle socket, const QByteArray &greeting, Kind kind,
             std::shared_ptr<void> place = {}, std::vector<SharedPiece> replay = {},
             bool punchHints = true);
    // One event (or hint), framed for each kind of stream.
    void post(const QByteArray &eventStreamFrame, const QByteArray &webSocketFrame,
              Content content = Content::Event);
    // A frame for one WebSocket alone, in order with the events around it.
    void sendTo(quint64 id, const QByteArray &webSocketFrame);
    // Ends one WebSocket (after what is queued for it, with a close frame of `code`).
    void close(quint64 id, quint16 code);
    void closeAll();

    int count() const { return m_count.load(); }
    int webSocketCount() const { return m_webSocketCount.load(); }
    int withoutHintsCount() const { return m_withoutHintsCount.load(); }
    QString sendMethod() const { return m_sender->description(); }

private:
    using Clock = std::chrono::steady_clock;

    // Who a run of posted frames goes to; each has its own copy, sent to all its streams at once.
    enum Audience
    {
        EventStreams,
        EventStreamsWithoutHints,
        WebSockets,
        Audiences
    };
    // A place among the posted frames: how much of them came before it.
    struct Position
    {
        qsizetype bytes[Audiences]{}; // of each audience's frames
        qint64 frames = 0;            // events and hints
        qint64 hints = 0;
    };

    struct Stream
    {
        quint64 id = 0;
        SocketIo::Handle fd = SocketIo::invalidHandle;
        // What the socket has not taken yet, in order: the greeting and a replay, then the
        // backlog of frames posted since. While any is left, the stream waits for room.
        std::deque<SharedPiece> replay;
        QByteArray backlog;
        qsizetype held = 0; // backlog's capacity, as counted in Counters::backlogBytes
        qsizetype sent = 0; // of backlog
        std::unique_ptr<WebSocketReader> webSocket; // null for an event stream
        Audience audience = EventStreams;           // which of the posted frames it gets
        Clock::time_point heardFrom;                // a WebSocket client's last bytes
        std::shared_ptr<void> place;                // given back with the stream
        ~Stream();
        bool isBehind() const { return !replay.empty() || !backlog.isEmpty(); }
    };

    // What other threads ask for, in the order they asked, each placed among the frames.
    struct Command
    {
        enum class Type
        {
            Add,
            SendTo,
            Close
        } type;
        quint64 id;
        SocketIo::Handle socket = SocketIo::invalidHandle;
        Kind kind = Kind::EventStream;
        bool punchHints = true;            // of an Add
        QByteArray bytes{};                // the greeting, or the frame to send
        std::shared_ptr<void> place{};     // of an Add
        std::vector<SharedPiece> replay{}; // of an Add
        quint16 code = 0;                  // of a Close
        Position position{};               // after the frames posted before it
    };

    // Places a command after the frames posted so far, and wakes the writer.
    void enqueue(Command command);
    void run();
    void takeInbox();
    void deliver(Audience audience, QByteArrayView frames);
    void send(Stream *stream, const char *data, qsizetype size);
    // Queues what the socket did not take, or drops the stream when its backlog would pass the cap.
    void keep(Stream *stream, const char *data, qsizetype size);
    // Brings Counters::backlogBytes up to date with the stream's backlog.
    void account(Stream *stream);
    // Whether the inbox waits for the batch window's end (then at m_lastBatch + batchWindow).
    bool holdInbox(Clock::time_point now);
    // Closes a stream that fell behind, counted and said (`why`).
    void dropBehind(Stream *stream, const char *why);
    void flush(Stream *stream);
    // Makes a packed piece plain, sharing what other streams of this writer inflated of it;
    // false if it does not inflate.
    bool unpack(SharedPiece &piece);
    // What the socket takes now, without waiting; -1 when the client is gone (then closed).
    qint64 sendWhatFits(Stream *stream, const char *data, qint64 size);
    void readInput(Stream *stream);
    void readWebSocket(Stream *stream, QByteArrayView bytes);
    void closeTimedOutWebSockets(Clock::time_point now);
    // Sends what is queued and a close frame (WebSockets), then ends the connection.
    void closeGracefully(Stream *stream, quint16 code);
    void close(Stream *stream);

    const Options m_options;
    ConnectionBudget &m_budget;
    Counters &m_counters;
    const WebSocketEvents m_webSocketEvents;
    std::unique_ptr<SocketPoller> m_poller;
    std::unique_ptr<FanOutSender> m_sender;

    std::mutex m_inboxMutex;
    std::vector<Command> m_commands; // guarded by m_inboxMutex
    QByteArray m_frames[Audiences];  // guarded by m_inboxMutex
    qint64 m_frameCount = 0;         // guarded by m_inboxMutex
    qint64 m_hintCount = 0;          // guarded by m_inboxMutex
    bool m_closeAll = false;         // guarded by m_inboxMutex
    bool m_stop = false;             // guarded by m_inboxMutex

    std::vector<Stream *> m_streams; // the writer thread's own
    Clock::time_point m_lastBatch;   // when frames were last taken from the inbox
    std::unordered_map<quint64, Stream *> m_webSockets;
    // deliver()'s lists, kept to spare an allocation per event: the streams with nothing
    // pending, their sockets, and what each took.
    std::vector<Stream *> m_receivers;
    std::vector<SocketIo::Handle> m_sockets;
    std::vector<qint64> m_taken;
    // Pieces inflated lately, held by the streams sending them: streams resuming together
    // share one copy.
    struct Unpacked
    {
        std::weak_ptr<const QByteArray> packed;
        std::weak_ptr<const QByteArray> plain;
    };
    std::vector<Unpacked> m_unpacked;
    std::atomic<int> m_count{0};
    qint64 m_held = 0; // what this writer's backlogs hold
    std::atomic<int> m_webSocketCount{0};
    // Streams without hints, counted from add(): while there are none, post() copies nothing for
    // them.
    std::atomic<int> m_withoutHintsCount{0};
    int m_audienceSize[Audiences]{}; // the writer thread's open streams, by audience
    std::unique_ptr<QThread> m_thread;
};
