#include "streamwriter.h"

#include "connectionbudget.h"
#include "logcategories.h"
#include "ownthread.h"
#include "sseframe.h"
#include "websocket/websocketframes.h"

#include <algorithm>

StreamWriter::Stream::~Stream() = default;

StreamWriter::StreamWriter(const Options &options, ConnectionBudget &budget, Counters &counters,
                           WebSocketEvents webSocketEvents)
    : m_options(options), m_budget(budget), m_counters(counters),
      m_webSocketEvents(std::move(webSocketEvents)), m_poller(SocketPoller::create(options.calls)),
      m_sender(FanOutSender::create(options.calls))
{
    m_thread = startOwnThread(this, QStringLiteral("sse-writer"), [this] { run(); });
}

StreamWriter::~StreamWriter()
{
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        m_stop = true;
        m_closeAll = true;
    }
    m_poller->wake();
    waitForOwnThread(this, *m_thread);
}

void StreamWriter::add(quint64 id, SocketIo::Handle socket, const QByteArray &greeting, Kind kind,
                       std::shared_ptr<void> place, std::vector<SharedPiece> replay,
                       bool punchHints)
{
    // Counted from now, not from when the writer thread picks it up: EventHub skips writers
    // without streams, and this one must get every event broadcast after this call.
    m_count.fetch_add(1);
    if (kind == Kind::WebSocket)
        m_webSocketCount.fetch_add(1);
    else if (!punchHints)
        m_withoutHintsCount.fetch_add(1);
    Command command{Command::Type::Add, id};
    command.socket = socket;
    command.kind = kind;
    command.punchHints = punchHints;
    command.bytes = greeting;
    command.place = std::move(place);
    command.replay = std::move(replay);
    enqueue(std::move(command));
}

void StreamWriter::post(const QByteArray &eventStreamFrame, const QByteArray &webSocketFrame,
                        Content content)
{
    bool first;
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        first = m_frameCount == 0 && m_commands.empty();
        m_frames[EventStreams].append(eventStreamFrame);
        if (content == Content::PunchHint)
            ++m_hintCount;
        else if (m_withoutHintsCount.load(std::memory_order_relaxed) > 0)
            m_frames[EventStreamsWithoutHints].append(eventStreamFrame);
        m_frames[WebSockets].append(webSocketFrame);
        ++m_frameCount;
    }
    if (first) // one wake-up per batch: frames posted meanwhile ride along
        m_poller->wake();
}

void StreamWriter::sendTo(quint64 id, const QByteArray &webSocketFrame)
{
    Command command{Command::Type::SendTo, id};
    command.bytes = webSocketFrame;
    enqueue(std::move(command));
}

void StreamWriter::close(quint64 id, quint16 code)
{
    Command command{Command::Type::Close, id};
    command.code = code;
    enqueue(std::move(command));
}

void StreamWriter::enqueue(Command command)
{
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        for (int audience = 0; audience < Audiences; ++audience)
            command.position.bytes[audience] = m_frames[audience].size();
        command.position.frames = m_frameCount;
        command.position.hints = m_hintCount;
        m_commands.push_back(std::move(command));
    }
    m_poller->wake();
}

void StreamWriter::closeAll()
{
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        m_closeAll = true;
    }
    m_poller->wake();
}

void StreamWriter::run()
{
    using std::chrono::milliseconds;
    // WebSocket silence is checked this often: a tenth of the timeout, at most every second.
    const auto timeoutCheck =
        std::clamp(m_options.webSocketTimeout / 10, milliseconds(10), milliseconds(1000));
    auto nextHeartbeat = Clock::now() + m_options.heartbeat;
    auto nextPing = Clock::now() + m_options.webSocketPing;
    auto nextTimeoutCheck = Clock::now() + timeoutCheck;
    bool holding = false;
    for (;;) {
        auto deadline = nextHeartbeat;
        if (!m_webSockets.empty())
            deadline = std::min({deadline, nextPing, nextTimeoutCheck});
        if (holding)
            deadline = std::min(deadline, m_lastBatch + m_options.batchWindow);
        const auto wait = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        for (const SocketPoller::Ready &ready :
             m_poller->wait(std::max(wait + milliseconds(1), milliseconds(0)))) {
            auto *stream = static_cast<Stream *>(ready.tag);
            if (stream->fd == SocketIo::invalidHandle)
                continue; // closed earlier in this round
            if (ready.input) {
                readInput(stream);
                if (stream->fd == SocketIo::invalidHandle)
                    continue;
            }
            if (ready.output)
                flush(stream);
        }
        const auto now = Clock::now();
        holding = holdInbox(now);
        if (!holding)
            takeInbox();
        if (now >= nextHeartbeat) {
            deliver(EventStreams, SseFrame::ping); // not an event
            deliver(EventStreamsWithoutHints, SseFrame::ping);
            nextHeartbeat = now + m_options.heartbeat;
        }
        if (now >= nextPing) {
            deliver(WebSockets, WebSocketFrames::ping());
            nextPing = now + m_options.webSocketPing;
        }
        if (now >= nextTimeoutCheck) {
            closeTimedOutWebSockets(now);
            nextTimeoutCheck = now + timeoutCheck;
        }
        // Streams closed in this round are freed only now: later events may still name them.
        m_streams.erase(std::remove_if(m_streams.begin(), m_streams.end(),
                                       [](Stream *stream) {
                                           if (stream->fd != SocketIo::invalidHandle)
                                               return false;
                                           delete stream;
                                           return true;
                                       }),
                        m_streams.end());
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        if (m_stop && m_commands.empty() && m_frameCount == 0 && m_streams.empty())
            return;
    }
}

bool StreamWriter::holdInbox(Clock::time_point now)
{
    if (m_options.batchWindow.count() <= 0)
        return false;
    std::lock_guard<std::mutex> lock(m_inboxMutex);
    if (m_frameCount == 0 || m_stop)
        return false;
    // Later frames do not wake the writer (post()): they ride along with the held ones.
    if (now < m_lastBatch + m_options.batchWindow)
        return true;
    m_lastBatch = now;
    return false;
}

void StreamWriter::takeInbox()
{
    std::vector<Command> commands;
    QByteArray frames[Audiences];
    Position end; // after all of them
    bool closeAll;
    {
        std::lock_guard<std::mutex> lock(m_inboxMutex);
        commands.swap(m_commands);
        for (int audience = 0; audience < Audiences; ++audience) {
            frames[audience].swap(m_frames[audience]);
            end.bytes[audience] = frames[audience].size();
        }
        end.frames = std::exchange(m_frameCount, 0);
        end.hints = std::exchange(m_hintCount, 0);
        closeAll = std::exchange(m_closeAll, false);
    }
    // In the order of the calls: the frames posted before a command go to the streams there
    // were then; a new stream gets its greeting and every frame after it.
    Position done;
    const auto deliverUpTo = [&](const Position &upTo) {
        // Counted before they are sent: a client that has an event finds it in /metrics.
        const qint64 all = upTo.frames - done.frames;
        const qint64 events = all - (upTo.hints - done.hints);
        m_counters.delivered[int(Kind::EventStream)].fetch_add(
            all * m_audienceSize[EventStreams] + events * m_audienceSize[EventStreamsWithoutHints],
            std::memory_order_relaxed);
        m_counters.delivered[int(Kind::WebSocket)].fetch_add(all * m_audienceSize[WebSockets],
                                                             std::memory_order_relaxed);
        for (int audience = 0; audience < Audiences; ++audience) {
            const qsizetype from = done.bytes[audience];
            deliver(Audience(audience),
                    QByteArrayView(frames[audience]).sliced(from, upTo.bytes[audience] - from));
        }
        done = upTo;
    };
    for (Command &command : commands) {
        deliverUpTo(command.position);
        switch (command.type) {
        case Command::Type::Add: {
            auto *stream = new Stream;
            stream->id = command.id;
            stream->fd = command.socket;
            stream->place = std::move(command.place);
            if (command.kind == Kind::WebSocket) {
                stream->webSocket = std::make_unique<WebSocketReader>(m_options.maxMessageBytes);
                stream->heardFrom = Clock::now();
                stream->audience = WebSockets;
                m_webSockets.emplace(command.id, stream);
            } else if (!command.punchHints) {
                stream->audience = EventStreamsWithoutHints;
            }
            ++m_audienceSize[stream->audience];
            m_streams.push_back(stream);
            m_poller->add(command.socket, stream);
            if (command.replay.empty()) {
                send(stream, command.bytes.constData(), command.bytes.size());
                break;
            }
            // The greeting and the replay go out as the socket takes them, ahead of the frames
            // posted meanwhile.
            const auto greeting = std::make_shared<const QByteArray>(std::move(command.bytes));
            stream->replay.push_back({greeting, 0, greeting->size()});
            stream->replay.insert(stream->replay.end(), command.replay.begin(),
                                  command.replay.end());
            m_poller->watchOutput(stream->fd, stream, true);
            flush(stream);
            break;
        }
        case Command::Type::SendTo:
        case Command::Type::Close: {
            const auto found = m_webSockets.find(command.id);
            if (found == m_webSockets.end())
                break; // gone already
            if (command.type == Command::Type::SendTo) {
                send(found->second, command.bytes.constData(), command.bytes.size());
                m_counters.delivered[int(Kind::WebSocket)].fetch_add(1, std::memory_order_relaxed);
            } else
                closeGracefully(found->second, command.code);
            break;
        }
        }
    }
    deliverUpTo(end);
    if (closeAll) {
        for (Stream *stream : m_streams)
            closeGracefully(stream, WebSocketFrames::GoingAway);
    }
}

void StreamWriter::deliver(Audience audience, QByteArrayView frames)
{
    if (frames.isEmpty() || m_audienceSize[audience] == 0)
        return;
    // A stream still working off a backlog gets the frames behind it; all others at once.
    m_receivers.clear();
    m_sockets.clear();
    for (Stream *stream : m_streams) {
        if (stream->fd == SocketIo::invalidHandle || stream->audience != audience)
            continue;
        if (!stream->isBehind()) {
            m_receivers.push_back(stream);
            m_sockets.push_back(stream->fd);
        } else {
            keep(stream, frames.data(), frames.size());
        }
    }
    if (m_receivers.empty())
        return;
    m_sender->sendToEach(m_sockets, frames.data(), frames.size(), m_taken);
    for (size_t i = 0; i < m_receivers.size(); ++i) {
        if (m_taken[i] < 0)
            close(m_receivers[i]); // the client is gone
        else if (m_taken[i] < frames.size())
            keep(m_receivers[i], frames.data() + m_taken[i], frames.size() - m_taken[i]);
    }
}

void StreamWriter::send(Stream *stream, const char *data, qsizetype size)
{
    if (stream->isBehind()) {
        keep(stream, data, size);
        return;
    }
    const qint64 written = sendWhatFits(stream, data, size);
    if (written >= 0 && written < size)
        keep(stream, data + written, size - written);
}

void StreamWriter::keep(Stream *stream, const char *data, qsizetype size)
{
    if (stream->fd == SocketIo::invalidHandle)
        return; // dropped meanwhile
    const qsizetype unsent = stream->backlog.size() - stream->sent;
    if (unsent + size > m_options.maxBacklogBytes)
        return dropBehind(stream, "");
    // Over the writer's share of the total, the stream holding the most goes first: one that
    // stopped reading, not the one written to now, which may only be a moment behind.
    while (m_held + size > m_options.maxTotalBacklogBytes) {
        Stream *largest = nullptr;
        for (Stream *other : m_streams) {
            if (other->fd != SocketIo::invalidHandle && (!largest || other->held > largest->held))
                largest = other;
        }
        if (!largest || largest == stream || largest->held <= stream->held)
            return dropBehind(stream, ", and every stream together holds the most it may");
        dropBehind(largest, ", and every stream together holds the most it may");
    }
    if (!stream->isBehind())
        m_poller->watchOutput(stream->fd, stream, true);
    stream->backlog.append(data, size);
    account(stream);
}

void StreamWriter::dropBehind(Stream *stream, const char *why)
{
    m_counters.dropped[int(stream->webSocket ? Kind::WebSocket : Kind::EventStream)].fetch_add(1);
    qCWarning(lcSse, "dropping subscriber %s: %lld bytes unsent%s (it reconnects)",
              qPrintable(SocketIo::peerName(stream->fd)),
              static_cast<long long>(stream->backlog.size() - stream->sent), why);
    close(stream);
}

void StreamWriter::account(Stream *stream)
{
    const qsizetype held = stream->backlog.capacity();
    m_counters.backlogBytes.fetch_add(held - stream->held, std::memory_order_relaxed);
    m_held += held - stream->held;
    stream->held = held;
}

void StreamWriter::flush(Stream *stream)
{
    while (!stream->replay.empty()) {
        SharedPiece &piece = stream->replay.front();
        if (piece.packed && !unpack(piece)) {
            qCWarning(lcSse, "dropping subscriber %s: a replayed block does not inflate",
                      qPrintable(SocketIo::peerName(stream->fd)));
            return close(stream);
        }
        const qint64 written =
            sendWhatFits(stream, piece.bytes->constData() + piece.from, piece.to - piece.from);
        if (written < 0)
            return;
        piece.from += written;
        if (piece.from < piece.to)
            return;
        stream->replay.pop_front();
    }
    if (stream->backlog.isEmpty()) {
        m_poller->watchOutput(stream->fd, stream, false);
        return;
    }
    const qint64 written = sendWhatFits(stream, stream->backlog.constData() + stream->sent,
                                        stream->backlog.size() - stream->sent);
    if (written < 0)
        return;
    stream->sent += written;
    if (stream->sent < stream->backlog.size())
        return;
    stream->backlog.clear();
    stream->sent = 0;
    account(stream);
    m_poller->watchOutput(stream->fd, stream, false);
}

bool StreamWriter::unpack(SharedPiece &piece)
{
    // Owner comparison: a packed block freed since cannot be mistaken for a new one at its
    // address.
    const auto same = [&piece](const Unpacked &u) {
        return !u.packed.owner_before(piece.bytes) && !piece.bytes.owner_before(u.packed);
    };
    const auto found = std::find_if(m_unpacked.begin(), m_unpacked.end(), same);
    std::shared_ptr<const QByteArray> plain =
        found != m_unpacked.end() ? found->plain.lock() : nullptr;
    if (!plain) {
        plain = std::make_shared<const QByteArray>(qUncompress(*piece.bytes));
        if (plain->size() < piece.to)
            return false;
        m_unpacked.erase(std::remove_if(m_unpacked.begin(), m_unpacked.end(),
                                        [](const Unpacked &u) { return u.plain.expired(); }),
                         m_unpacked.end());
        m_unpacked.push_back({piece.bytes, plain});
    }
    piece.bytes = std::move(plain);
    piece.packed = false;
    return true;
}

qint64 StreamWriter::sendWhatFits(Stream *stream, const char *data, qint64 size)
{
    qint64 written = 0;
    while (written < size) {
        const qint64 n = SocketIo::sendNow(stream->fd, data + written, size - written);
        if (n < 0) {
            close(stream); // the client is gone
            return -1;
        }
        if (n == 0)
            break;
        written += n;
    }
    return written;
}

void StreamWriter::readInput(Stream *stream)
{
    char buffer[4096];
    for (;;) {
        const qint64 n = SocketIo::receiveNow(stream->fd, buffer, sizeof buffer);
        if (n == 0)
            return;
        if (n < 0) {
            close(stream); // end of stream or error: the client went away
            return;
        }
        // An event-stream client has nothing to say: what it said is dropped.
        if (stream->webSocket) {
            readWebSocket(stream, QByteArrayView(buffer, n));
            if (stream->fd == SocketIo::invalidHandle)
                return;
        }
    }
}

void StreamWriter::readWebSocket(Stream *stream, QByteArrayView bytes)
{
    using Item = WebSocketReader::Item;
    stream->heardFrom = Clock::now();
    for (const Item &item : stream->webSocket->read(bytes)) {
        switch (item.kind) {
        case Item::Kind::Text:
            if (m_webSocketEvents.message)
                m_webSocketEvents.message(stream->id, item.payload);
            break;
        case Item::Kind::Ping: {
            const QByteArray pong = WebSocketFrames::pong(item.payload);
            send(stream, pong.constData(), pong.size());
            break;
        }
        case Item::Kind::Binary: // presence messages are text: dropped like an invalid one
        case Item::Kind::Pong:
            break;
        case Item::Kind::Close:
        case Item::Kind::Error:
            closeGracefully(stream, item.code);
            return;
        }
        if (stream->fd == SocketIo::invalidHandle)
            return;
    }
}

void StreamWriter::closeTimedOutWebSockets(Clock::time_point now)
{
    for (Stream *stream : m_streams) {
        if (stream->webSocket && stream->fd != SocketIo::invalidHandle &&
            now - stream->heardFrom >= m_options.webSocketTimeout)
            close(stream);
    }
}

void StreamWriter::closeGracefully(Stream *stream, quint16 code)
{
    if (stream->fd == SocketIo::invalidHandle)
        return;
    if (stream->webSocket) {
        const QByteArray frame = WebSocketFrames::close(code);
        send(stream, frame.constData(), frame.size());
    }
    if (stream->fd != SocketIo::invalidHandle && stream->isBehind())
        flush(stream);
    if (stream->fd != SocketIo::invalidHandle)
        SocketIo::shutdownBoth(stream->fd);
    close(stream);
}

void StreamWriter::close(Stream *stream)
{
    if (stream->fd == SocketIo::invalidHandle)
        return;
    m_poller->remove(stream->fd);
    SocketIo::close(stream->fd);
    stream->fd = SocketIo::invalidHandle;
    stream->replay.clear();
    stream->backlog = QByteArray();
    account(stream);
    m_count.fetch_sub(1);
    m_budget.release();
    --m_audienceSize[stream->audience];
    if (stream->audience == EventStreamsWithoutHints)
        m_withoutHintsCount.fetch_sub(1);
    if (stream->webSocket) {
        m_webSockets.erase(stream->id);
        m_webSocketCount.fetch_sub(1);
        if (m_webSocketEvents.closed)
            m_webSocketEvents.closed(stream->id);
    }
}
