#pragma once

#include <QObject>
#include <QPointer>
#include <QTimer>

#include <chrono>
#include <deque>
#include <functional>
#include <optional>

class ConnectionBudget;
class ServerMetrics;
class QTcpSocket;

// Watches one connection's bytes before QtHttpServer 6.4 parses them, and enforces what 6.4
// does not: a header size cap (431), a body cap (413), a whole request within a time limit
// (408), well-formed request and header lines (400, so that a malformed header can never make
// 6.4 drop the headers and read a body as a second request), `Expect: 100-continue`,
// `Connection: close` / HTTP/1.0, and an idle keep-alive timeout.
//
// It connects to readyRead before QtHttpServer does, so it sees each chunk first (peek), and
// it consumes a rejected request itself so that QtHttpServer never handles it.
//
// Having parsed a request anyway, it also offers it to a fast lane: a complete request at the
// front of the connection that the lane answers from its bytes (POST /publish, the hot path)
// is read out of the socket, so QtHttpServer never builds a request object for it. Anything
// else, and everything after it in the same chunk, goes to QtHttpServer as before.
class ConnectionGuard : public QObject
{
    Q_OBJECT

public:
    struct Limits
    {
        qint64 maxHeaderBytes = 16 * 1024;
        qint64 maxBodyBytes = 64 * 1024;
        int maxHeaderFields = 100;
        std::chrono::milliseconds requestTimeout{10000};
        std::chrono::milliseconds idleTimeout{120000};
        // Idle this long between requests, a keep-alive connection leaves the HTTP thread for
        // the park (see IdleConnectionPark); 0: never.
        std::chrono::milliseconds parkAfter{1000};
    };

    // A complete, validated request, as the fast lane sees it.
    struct RawRequest
    {
        QByteArrayView method;
        QByteArrayView target;
        QByteArrayView headerLines; // after the request line, up to the blank line
        QByteArrayView body;
    };
    // Answers the request (through reply() or owe(), then handled()) and returns true, or
    // returns false at once, having done nothing, to leave it to QtHttpServer.
    using FastLane = std::function<bool(const RawRequest &, QTcpSocket *)>;
    // Takes an idle connection (a descriptor of its own, with the connection's place in the
    // budget) to hold until the client sends again or `closeAt`.
    using Park = std::function<void(qintptr socket, std::chrono::steady_clock::time_point closeAt)>;

    // Becomes the socket's child and holds the connection's place in `budget` (taken by the
    // caller) until the socket is gone or takeConnection() passes it on.
    ConnectionGuard(QTcpSocket *socket, const Limits &limits, ConnectionBudget &budget,
                    ServerMetrics &metrics, FastLane fastLane = {}, Park park = {});
    ~ConnectionGuard() override;

    static ConnectionGuard *of(QTcpSocket *socket);

    // From now on the connection carries an event stream: no timeouts, and anything the client
    // sends is discarded rather than parsed as another request.
    void startStreaming();

    // Takes the connection from Qt, with its place in the budget, for someone else (the event
    // hub, the idle park): a descriptor of its own, Qt's socket aborted without a shutdown so
    // that the connection stays open. invalidHandle, and nothing done, if it cannot be had.
    qintptr takeConnection();

    // Answers leave in the order of the requests, also when one is answered later (a publish
    // that the cluster orders first): reply() sends at once or after the answers still owed.
    void reply(const QByteArray &bytes, const QByteArray &moreBytes = {});
    // A place for an answer that comes later, through replyLater().
    quint64 owe();
    void replyLater(quint64 place, const QByteArray &bytes);
    bool owesReplies() const { return !m_owed.empty(); }
    // Ends the connection once every answer owed on it has left.
    void closeWhenAnswered() { close(); }

    // Answers the connection's first request with `status` (and `extraHeaders`), whatever it
    // asks, then closes; a client that sends nothing is closed after the request timeout.
    void refuseFirstRequest(int status, const QByteArray &reason, const QByteArray &extraHeaders);

    // QtHttpServer handled (answered or took over) the next request; counts towards a close
    // asked for by `Connection: close` or HTTP/1.0.
    void handled();

Q_SIGNALS:
    // Nothing is owed any more.
    void repliesSent();

private:
    struct Owed
    {
        quint64 place = 0;
        bool ready = false;
        QByteArray bytes;
    };

    enum class State
    {
        Idle,
        Head,
        Body,
        Streaming,
        Closing
    };

    void inspect();
    bool inspectHead(QByteArrayView head); // false when the request was rejected
    void finishRequest();
    bool takeFastLane(QByteArrayView request, qsizetype headLength);
    void reject(int status, QByteArrayView reason, const QByteArray &extraHeaders = {});
    void timedOut();
    void startIdleTimer();
    bool parkIfIdle(); // false when something is still under way on the connection
    void write(const QByteArray &bytes, const QByteArray &moreBytes = {});
    void close();

    QTcpSocket *m_socket;
    const Limits m_limits;
    ConnectionBudget &m_budget;
    ServerMetrics &m_metrics;
    const FastLane m_fastLane;
    const Park m_park;
    bool m_handedOver = false;
    State m_state = State::Idle;
    QByteArray m_head;
    qint64 m_bodyLeft = 0;
    bool m_closeAfterResponse = false;
    bool m_closeWhenAnswered = false;
    quint64 m_requestsSeen = 0;      // complete requests inspected
    quint64 m_requestsHandled = 0;   // handled by QtHttpServer (in the same order)
    quint64 m_closeAfterRequest = 0; // close after this one (0: keep alive)
    // Offsets in the connection's byte stream: inspected up to, read out of the socket up to,
    // and the ends of the complete requests left to QtHttpServer, in order.
    qint64 m_inspectedTo = 0;
    qint64 m_consumedTo = 0;
    std::deque<qint64> m_endsForQt;
    struct Refusal
    {
        int status;
        QByteArray reason;
        QByteArray extraHeaders;
    };
    std::optional<Refusal> m_refusal; // for the first request
    std::deque<Owed> m_owed;
    quint64 m_nextPlace = 0;
    QTimer m_timer;
    std::chrono::steady_clock::time_point m_idleSince;
};
