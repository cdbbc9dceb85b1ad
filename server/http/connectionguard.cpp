#include "connectionguard.h"

#include "connectionbudget.h"
#include "httpreply.h"
#include "logcategories.h"
#include "servermetrics.h"
#include "socketio.h"

#include <QTcpSocket>

namespace {

const char guardProperty[] = "goop.connectionGuard";

// Position just past the blank line that ends a header block ("\r\n\r\n" or a bare "\n\n"),
// or -1. The search starts a few bytes before `from`, so that a line end split over two
// chunks is found.
qsizetype headEnd(const QByteArray &buffer, qsizetype from)
{
    for (qsizetype i = buffer.indexOf('\n', qMax<qsizetype>(0, from - 3)); i >= 0;
         i = buffer.indexOf('\n', i + 1)) {
        if (i + 1 < buffer.size() && buffer[i + 1] == '\n')
            return i + 2;
        if (i + 2 < buffer.size() && buffer[i + 1] == '\r' && buffer[i + 2] == '\n')
            return i + 3;
    }
    return -1;
}

bool isTokenChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isToken(QByteArrayView text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), isTokenChar);
}

bool hasToken(QByteArrayView list, QByteArrayView token)
{
    for (const QByteArrayView item : list.toByteArray().split(','))
        if (item.trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

} // namespace

ConnectionGuard::ConnectionGuard(QTcpSocket *socket, const Limits &limits, ConnectionBudget &budget,
                                 ServerMetrics &metrics, FastLane fastLane, Park park)
    : QObject(socket), m_socket(socket), m_limits(limits), m_budget(budget), m_metrics(metrics),
      m_fastLane(std::move(fastLane)), m_park(std::move(park))
{
    socket->setProperty(guardProperty, QVariant::fromValue(static_cast<QObject *>(this)));
    connect(socket, &QTcpSocket::readyRead, this, &ConnectionGuard::inspect);
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &ConnectionGuard::timedOut);
    // A connection that has not sent a byte yet is as slow as a request that has not ended:
    // it gets the request timeout, not the idle one (19,936 silent sockets would otherwise
    // hold every place for two minutes).
    m_timer.start(limits.requestTimeout);
}

ConnectionGuard::~ConnectionGuard()
{
    if (!m_handedOver)
        m_budget.release();
}

ConnectionGuard *ConnectionGuard::of(QTcpSocket *socket)
{
    return static_cast<ConnectionGuard *>(socket->property(guardProperty).value<QObject *>());
}

void ConnectionGuard::reply(const QByteArray &bytes, const QByteArray &moreBytes)
{
    if (m_owed.empty())
        write(bytes, moreBytes);
    else
        m_owed.push_back({0, true, bytes + moreBytes});
}

quint64 ConnectionGuard::owe()
{
    m_owed.push_back({++m_nextPlace, false, {}});
    return m_nextPlace;
}

void ConnectionGuard::replyLater(quint64 place, const QByteArray &bytes)
{
    for (Owed &owed : m_owed) {
        if (owed.place == place) {
            owed.ready = true;
            owed.bytes = bytes;
        }
    }
    while (!m_owed.empty() && m_owed.front().ready) {
        write(m_owed.front().bytes);
        m_owed.pop_front();
    }
    if (!m_owed.empty())
        return;
    if (m_closeWhenAnswered)
        close();
    Q_EMIT repliesSent();
}

void ConnectionGuard::write(const QByteArray &bytes, const QByteArray &moreBytes)
{
    // One send() when Qt has nothing queued: no extra event-loop turn for the common case.
    qsizetype sent = 0;
    if (m_socket->bytesToWrite() == 0)
        sent = qMax<qint64>(0, SocketIo::sendNow(m_socket->socketDescriptor(), bytes, moreBytes));
    // Qt queues what the socket did not take and sends it when there is room.
    if (sent < bytes.size())
        m_socket->write(bytes.constData() + sent, bytes.size() - sent);
    const qsizetype sentOfMore = qMax<qsizetype>(0, sent - bytes.size());
    if (sentOfMore < moreBytes.size())
        m_socket->write(moreBytes.constData() + sentOfMore, moreBytes.size() - sentOfMore);
}

void ConnectionGuard::close()
{
    if (m_owed.empty())
        m_socket->disconnectFromHost();
    else
        m_closeWhenAnswered = true;
}

void ConnectionGuard::refuseFirstRequest(int status, const QByteArray &reason,
                                         const QByteArray &extraHeaders)
{
    m_refusal = Refusal{status, reason, extraHeaders};
    m_timer.start(m_limits.requestTimeout);
}

void ConnectionGuard::startStreaming()
{
    m_state = State::Streaming;
    m_timer.stop();
}

void ConnectionGuard::inspect()
{
    if (m_state == State::Closing && m_requestsHandled < m_closeAfterRequest)
        return; // QtHttpServer still has pipelined requests to handle in what is buffered
    if (m_state == State::Streaming || m_state == State::Closing) {
        m_socket->readAll(); // nothing more is parsed on this connection
        return;
    }
    const qint64 available = m_socket->bytesAvailable();
    // Where the socket's buffer begins in the connection's bytes. QtHttpServer 6.4 takes one
    // pipelined request per readyRead and emits readyRead again for the rest, so bytes
    // inspected before are offered again: they are skipped. While it holds a partial request
    // in a read transaction, everything it read (all inspected) is hidden from bytesAvailable().
    const qint64 base = m_socket->isTransactionStarted() ? m_inspectedTo : m_consumedTo;
    qint64 pos = m_inspectedTo - base;
    if (pos >= available)
        return;               // nothing new
    qint64 requestStart = -1; // where the request being read began, when in this chunk
    qint64 bodyStart = 0;
    qint64 readOut = 0; // the front of the chunk, answered by the fast lane and read out
    QByteArray chunk;   // peeked lazily: body bytes are only counted, never copied
    const auto bytesAt = [&](qint64 offset, qint64 count) {
        if (chunk.size() < offset + count) {
            Q_ASSERT(readOut == 0); // offsets count from where the chunk began
            chunk = m_socket->peek(available);
        }
        return QByteArrayView(chunk).sliced(offset, count);
    };
    while (pos < available) {
        if (m_state == State::Closing)
            return; // what follows a request that closes the connection is never parsed
        if (m_state == State::Idle) {
            m_state = State::Head;
            requestStart = pos;
        }
        if (m_state == State::Head) {
            const qsizetype searchFrom = m_head.size();
            const qint64 room = m_limits.maxHeaderBytes + 4 - m_head.size();
            m_head.append(bytesAt(pos, qMin(room, available - pos)));
            const qsizetype end = headEnd(m_head, searchFrom);
            if (end < 0) {
                if (m_head.size() > m_limits.maxHeaderBytes)
                    return reject(431, "request header too large");
                break;
            }
            pos += end - searchFrom;
            if (!inspectHead(QByteArrayView(m_head).first(end)))
                return;
            m_head.clear();
            bodyStart = pos;
            if (m_bodyLeft > 0) {
                m_state = State::Body;
                continue;
            }
        } else {
            const qint64 take = qMin<qint64>(m_bodyLeft, available - pos);
            m_bodyLeft -= take;
            pos += take;
            if (m_bodyLeft > 0)
                continue;
        }
        finishRequest();
        // Only a request at the front of what QtHttpServer would read next, and one that keeps
        // the connection open (a close is QtHttpServer's to carry out, in order).
        if (m_fastLane && requestStart == readOut && m_state == State::Idle &&
            takeFastLane(bytesAt(requestStart, pos - requestStart), bodyStart - requestStart)) {
            readOut = pos;
            m_consumedTo = base + pos;
        } else {
            m_endsForQt.push_back(base + pos);
        }
    }
    m_inspectedTo = base + available;
    // One timer restart per chunk, not two per request: the idle timeout from the last
    // complete request, or the request timeout from the start of one begun in this chunk.
    if (m_state == State::Idle)
        startIdleTimer();
    else if (requestStart >= 0)
        m_timer.start(m_limits.requestTimeout);
}

bool ConnectionGuard::takeFastLane(QByteArrayView request, qsizetype headLength)
{
    // inspectHead() has checked the request line: "METHOD SP target SP version".
    const qsizetype methodEnd = request.indexOf(' ');
    const qsizetype targetEnd = request.indexOf(' ', methodEnd + 1);
    const qsizetype headersStart = request.indexOf('\n') + 1;
    const RawRequest raw{
        request.first(methodEnd), request.sliced(methodEnd + 1, targetEnd - methodEnd - 1),
        request.sliced(headersStart, headLength - headersStart), request.sliced(headLength)};
    if (!m_fastLane(raw, m_socket))
        return false;
    // QtHttpServer 6.4 keeps a read transaction open on the socket between requests, and bytes
    // read inside one stay buffered until it is committed. Nothing of it is pending here (this
    // request is at the front), so commit it: the bytes read out below are then gone for good.
    if (m_socket->isTransactionStarted())
        m_socket->commitTransaction();
    m_socket->skip(request.size());
    return true;
}

bool ConnectionGuard::inspectHead(QByteArrayView head)
{
    if (m_refusal) {
        reject(m_refusal->status, m_refusal->reason, m_refusal->extraHeaders);
        return false;
    }
    QList<QByteArrayView> lines;
    for (qsizetype start = 0; start < head.size();) {
        qsizetype end = head.indexOf('\n', start);
        QByteArrayView line = head.sliced(start, end - start);
        if (line.endsWith('\r'))
            line.chop(1);
        if (!line.isEmpty())
            lines.append(line);
        start = end + 1;
    }
    const QList<QByteArray> requestLine =
        lines.isEmpty() ? QList<QByteArray>() : lines.first().toByteArray().split(' ');
    if (requestLine.size() != 3 || !isToken(requestLine[0]) || requestLine[1].isEmpty()) {
        reject(400, "bad request: malformed request line");
        return false;
    }
    const QByteArray &version = requestLine[2];
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        reject(version.startsWith("HTTP/") ? 505 : 400, "bad request: unsupported HTTP version");
        return false;
    }
    if (lines.size() - 1 > m_limits.maxHeaderFields) {
        reject(431, "too many header fields");
        return false;
    }

    std::optional<qint64> contentLength;
    bool chunked = false;
    bool keepAlive = version == "HTTP/1.1";
    bool expectContinue = false;
    for (const QByteArrayView line : lines.sliced(1)) {
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || !isToken(line.first(colon))) {
            reject(400, "bad request: malformed header line");
            return false;
        }
        const QByteArrayView name = line.first(colon);
        const QByteArrayView value = line.sliced(colon + 1).trimmed();
        if (name.compare("Content-Length", Qt::CaseInsensitive) == 0) {
            bool ok = value.size() <= 18 && !value.isEmpty() &&
                      std::all_of(value.begin(), value.end(),
                                  [](char c) { return c >= '0' && c <= '9'; });
            const qint64 length = ok ? value.toLongLong() : -1;
            if (!ok || (contentLength && *contentLength != length)) {
                reject(400, "bad request: invalid Content-Length");
                return false;
            }
            contentLength = length;
        } else if (name.compare("Transfer-Encoding", Qt::CaseInsensitive) == 0) {
            chunked = true;
        } else if (name.compare("Connection", Qt::CaseInsensitive) == 0) {
            if (hasToken(value, "close"))
                keepAlive = false;
            else if (hasToken(value, "keep-alive"))
                keepAlive = true;
        } else if (name.compare("Expect", Qt::CaseInsensitive) == 0) {
            if (value.compare("100-continue", Qt::CaseInsensitive) != 0) {
                reject(417, "expectation failed");
                return false;
            }
            expectContinue = true;
        }
    }
    if (chunked) {
        reject(411, "length required: send the body with Content-Length");
        return false;
    }
    m_bodyLeft = contentLength.value_or(0);
    if (m_bodyLeft > m_limits.maxBodyBytes) {
        reject(413, "request body too large");
        return false;
    }
    if (expectContinue && m_bodyLeft > 0)
        m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    m_closeAfterResponse = !keepAlive;
    return true;
}

void ConnectionGuard::finishRequest()
{
    m_state = State::Idle;
    ++m_requestsSeen;
    if (!m_closeAfterResponse)
        return;
    // Closed once this request is answered: pipelined requests before it are answered first,
    // and nothing after it is parsed.
    m_state = State::Closing;
    m_closeAfterRequest = m_requestsSeen;
}

void ConnectionGuard::handled()
{
    // QtHttpServer has read this request out of the socket.
    if (!m_endsForQt.empty()) {
        m_consumedTo = m_endsForQt.front();
        m_endsForQt.pop_front();
    }
    ++m_requestsHandled;
    if (m_closeAfterRequest > 0 && m_requestsHandled >= m_closeAfterRequest)
        close();
}

void ConnectionGuard::reject(int status, QByteArrayView reason, const QByteArray &extraHeaders)
{
    if (!m_refusal) // a per-client limit's refusals are logged where they are counted, sparingly
        qCInfo(lcHttp, "rejected %s:%u: %d %s", qPrintable(m_socket->peerAddress().toString()),
               m_socket->peerPort(), status, reason.data());
    m_metrics.countRefusal(status);
    HttpReply reply = HttpReply::text(status, reason);
    reply.extraHeaders += "Connection: close\r\n" + extraHeaders;
    m_socket->readAll(); // consumed here: QtHttpServer must not parse what was refused
    m_socket->write(reply.serialize());
    m_state = State::Closing;
    m_socket->disconnectFromHost();
    // A client that does not read its answer must not keep the connection open either.
    m_timer.start(std::chrono::seconds(2));
}

void ConnectionGuard::timedOut()
{
    switch (m_state) {
    case State::Head:
    case State::Body:
        reject(408, "request timeout");
        break;
    case State::Closing:
        m_socket->abort();
        break;
    case State::Idle:
        if (m_requestsSeen > 0 &&
            std::chrono::steady_clock::now() - m_idleSince < m_limits.idleTimeout) {
            if (!parkIfIdle()) // an answer still leaving, say: look again a little later
                m_timer.start(std::min<std::chrono::milliseconds>(
                    m_limits.parkAfter,
                    std::chrono::ceil<std::chrono::milliseconds>(
                        m_idleSince + m_limits.idleTimeout - std::chrono::steady_clock::now())));
            break;
        }
        m_state = State::Closing;
        m_socket->disconnectFromHost();
        m_timer.start(std::chrono::seconds(2));
        break;
    case State::Streaming:
        break;
    }
}

void ConnectionGuard::startIdleTimer()
{
    m_idleSince = std::chrono::steady_clock::now();
    const bool parks =
        m_park && m_limits.parkAfter.count() > 0 && m_limits.parkAfter < m_limits.idleTimeout;
    m_timer.start(parks ? m_limits.parkAfter : m_limits.idleTimeout);
}

bool ConnectionGuard::parkIfIdle()
{
    // Only a connection between requests: everything asked answered and sent, nothing more
    // received, nothing of it left with QtHttpServer.
    if (!m_park || !m_owed.empty() || m_requestsHandled != m_requestsSeen ||
        m_socket->bytesToWrite() > 0 || m_socket->bytesAvailable() > 0 ||
        m_socket->state() != QAbstractSocket::ConnectedState)
        return false;
    const SocketIo::Handle descriptor = takeConnection();
    if (descriptor == SocketIo::invalidHandle)
        return false;
    m_park(descriptor, m_idleSince + m_limits.idleTimeout);
    return true;
}

qintptr ConnectionGuard::takeConnection()
{
    const SocketIo::Handle descriptor = SocketIo::duplicate(m_socket->socketDescriptor());
    if (descriptor == SocketIo::invalidHandle)
        return descriptor;
    m_handedOver = true;
    m_socket->abort();
    return descriptor;
}
