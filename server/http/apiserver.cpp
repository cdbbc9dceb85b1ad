#include "apiserver.h"

#include "connectionbudget.h"
#include "connectionguard.h"
#include "dashboardfiles.h"
#include "eventhistory.h"
#include "eventhub.h"
#include "headerlines.h"
#include "logcategories.h"
#include "logsink.h"
#include "presenceservice.h"
#include "socketio.h"
#include "sseframe.h"
#include "textquote.h"
#include "websocket/websocketframes.h"
#include "websocket/websockethandshake.h"
#include "websocket/websocketpeers.h"

#include <QElapsedTimer>
#include <QHttpServerRequest>
#include <QTcpSocket>
#include <QTimer>
#include <QUrlQuery>

#include <memory>

namespace {

QByteArrayView methodName(QHttpServerRequest::Method method)
{
    switch (method) {
    case QHttpServerRequest::Method::Get:
        return "GET";
    case QHttpServerRequest::Method::Put:
        return "PUT";
    case QHttpServerRequest::Method::Delete:
        return "DELETE";
    case QHttpServerRequest::Method::Post:
        return "POST";
    case QHttpServerRequest::Method::Head:
        return "HEAD";
    case QHttpServerRequest::Method::Options:
        return "OPTIONS";
    case QHttpServerRequest::Method::Patch:
        return "PATCH";
    case QHttpServerRequest::Method::Connect:
        return "CONNECT";
    case QHttpServerRequest::Method::Trace:
        return "TRACE";
    default:
        return "OTHER";
    }
}

std::optional<QHttpServerRequest::Method> methodFromName(QByteArrayView name)
{
    for (const auto method : {QHttpServerRequest::Method::Get, QHttpServerRequest::Method::Head,
                              QHttpServerRequest::Method::Post}) {
        if (name == methodName(method))
            return method;
    }
    return std::nullopt;
}

// The Allow header of a 405, e.g. "GET, HEAD".
QByteArray allowHeader(QHttpServerRequest::Methods methods)
{
    QByteArray names;
    for (const auto method : {QHttpServerRequest::Method::Get, QHttpServerRequest::Method::Head,
                              QHttpServerRequest::Method::Post}) {
        if (methods.testFlag(method))
            names += (names.isEmpty() ? "" : ", ") + methodName(method).toByteArray();
    }
    return "Allow: " + names + "\r\n";
}

const QByteArray eventStreamHead = QByteArrayLiteral("HTTP/1.1 200 OK\r\n"
                                                     "Content-Type: text/event-stream\r\n"
                                                     "Cache-Control: no-cache\r\n"
                                                     "Connection: keep-alive\r\n"
                                                     "X-Accel-Buffering: no\r\n"
                                                     // events carry IDs; Last-Event-ID and
                                                     // snapshot=1 are understood
                                                     "X-Goop-Resume: 1\r\n");

} // namespace

ApiServer::ApiServer(const Services &services, QObject *parent)
    : QAbstractHttpServer(parent), m_services(services)
{
    const LogSink &logs = services.logs;
    const DashboardFiles &dashboard = services.dashboard;
    using Door = AccessControl::Door;
    const auto fromBytes = [this](const char *path, QHttpServerRequest::Methods methods, Door door,
                                  Handler handler) {
        m_routes.insert(QByteArray(path), Route{methods, door, std::move(handler), true});
    };
    fromBytes(
        "/publish", QHttpServerRequest::Method::Post, Door::Public,
        [this](const Request &request, QTcpSocket *socket) { return publish(request, socket); });
    fromBytes("/peers.json", QHttpServerRequest::Method::Get, Door::Private,
              [this](const Request &, QTcpSocket *) {
                  return std::optional(HttpReply::json(m_services.presence.peersJson()));
              });
    fromBytes("/healthz", QHttpServerRequest::Method::Get | QHttpServerRequest::Method::Head,
              Door::Public, [](const Request &, QTcpSocket *) {
                  return std::optional(HttpReply{200, "text/plain; charset=utf-8", "ok", {}});
              });
    fromBytes("/metrics", QHttpServerRequest::Method::Get, Door::Operator,
              [this](const Request &, QTcpSocket *) {
                  return std::optional(HttpReply{200,
                                                 "text/plain; version=0.0.4; charset=utf-8",
                                                 m_services.metrics.render(m_services.gauges()),
                                                 {}});
              });
    // Today's clients fetch the relay once at start; 404 tells them there is none.
    fromBytes("/relay", QHttpServerRequest::Method::Get, Door::Public,
              [this](const Request &, QTcpSocket *) {
                  if (m_services.relayJson.isEmpty())
                      return std::optional(HttpReply::text(404, "404 page not found"));
                  return std::optional(HttpReply::json(m_services.relayJson));
              });
    fromBytes("/api/capabilities", QHttpServerRequest::Method::Get, Door::Public,
              [this](const Request &, QTcpSocket *) {
                  return std::optional(HttpReply::json(
                      QByteArray("{\"bridge\":false,\"credits\":false,\"encryption\":false,"
                                 "\"registration\":false,\"relay\":") +
                      (m_services.relayJson.isEmpty() ? "false" : "true") +
                      ",\"templates\":false}\n"));
              });
    // The libp2p rendezvous point's registrations, as peers.json is the presence hub's.
    fromBytes("/rendezvous.json", QHttpServerRequest::Method::Get, Door::Private,
              [this](const Request &, QTcpSocket *) {
                  if (!m_services.rendezvousJson)
                      return std::optional(HttpReply::text(404, "404 page not found"));
                  return std::optional(HttpReply::json(m_services.rendezvousJson()));
              });
    fromBytes("/logs.json", QHttpServerRequest::Method::Get, Door::Operator,
              [&logs](const Request &, QTcpSocket *) {
                  return std::optional(HttpReply::json(logs.recentLinesJson()));
              });
    // The upgrade reads the request's headers from its bytes: QtHttpServer 6.4 would take any
    // `Upgrade: websocket` request for its own WebSocket server before a route saw it.
    m_routes.insert(QByteArrayLiteral("/ws"),
                    Route{QHttpServerRequest::Method::Get | QHttpServerRequest::Method::Post |
                              QHttpServerRequest::Method::Head,
                          Door::Public,
                          [this](const Request &request, QTcpSocket *socket) {
                              return openWebSocket(request, socket);
                          },
                          true});
    // QtHttpServer's door only: the stream takes the socket over, the dashboard reads a header.
    m_routes.insert(QByteArrayLiteral("/events"),
                    Route{QHttpServerRequest::Method::Get, Door::Public,
                          [this](const Request &request, QTcpSocket *socket) {
                              return openEventStream(request, socket);
                          },
                          false});
    for (const QString &path : dashboard.paths()) {
        m_routes.insert(path.toUtf8(),
                        Route{QHttpServerRequest::Method::Get | QHttpServerRequest::Method::Head,
                              Door::Private,
                              [&dashboard, path](const Request &request, QTcpSocket *) {
                                  return std::optional(
                                      dashboard.reply(path, request.whole->value("If-None-Match")));
                              },
                              false});
    }
}

bool ApiServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QElapsedTimer clock;
    clock.start();
    const QByteArray path = request.url().path().toUtf8();
    const auto found = m_routes.constFind(path);
    // Taken now: a stream handed over to the event hub no longer has a peer address in Qt.
    Request view{request.method(), {}, {}, {}, &request, socket->peerAddress()};

    std::optional<HttpReply> reply;
    if (found == m_routes.cend()) {
        reply = HttpReply::text(404, "404 page not found");
    } else if (!found->methods.testFlag(request.method())) {
        reply = HttpReply::text(405, "method not allowed");
        reply->extraHeaders += allowHeader(found->methods);
    } else {
        const QByteArray body = request.body();
        // A route that reads the request's bytes, come through this door (the fast lane left
        // it here), gets them rebuilt, as does a request from a proxy, whose headers name the
        // client; the others (dashboard, /events) never read them.
        QByteArray target, headerLines;
        if (found->fromBytes)
            target = request.url().toEncoded(QUrl::RemoveScheme | QUrl::RemoveAuthority);
        if (found->fromBytes || m_services.access.readsHeadersOf(view.client)) {
            for (const auto &[name, value] : request.headers())
                headerLines += name + ": " + value + "\r\n";
        }
        view.target = target;
        view.headerLines = headerLines;
        view.body = body;
        reply = dispatch(*found, view, request.value("Authorization"), socket);
    }
    finish(reply, request.method() == QHttpServerRequest::Method::Head, socket);
    account(methodName(request.method()), path, reply, clock, view.client);
    return true;
}

bool ApiServer::answerDirectly(const ConnectionGuard::RawRequest &request, QTcpSocket *socket)
{
    // What QtHttpServer would decode or route differently (an escaped path, another method, a
    // query string aside) is left to it.
    const std::optional<QHttpServerRequest::Method> method = methodFromName(request.method);
    const qsizetype query = request.target.indexOf('?');
    const QByteArrayView path = query < 0 ? request.target : request.target.first(query);
    if (!method || path.contains('%'))
        return false;
    // A key over the request's own bytes: no copy on the hot path.
    const auto found = m_routes.constFind(QByteArray::fromRawData(path.data(), path.size()));
    if (found == m_routes.cend() || !found->fromBytes || !found->methods.testFlag(*method))
        return false;
    QElapsedTimer clock;
    clock.start();
    Request view{*method,      request.target, request.headerLines,
                 request.body, nullptr,        socket->peerAddress()};
    const QByteArray authorization = m_services.access.guards(found->door)
                                         ? HeaderLines::value(request.headerLines, "Authorization")
                                         : QByteArray();
    const std::optional<HttpReply> reply = dispatch(*found, view, authorization, socket);
    finish(reply, *method == QHttpServerRequest::Method::Head, socket);
    account(request.method, path, reply, clock, view.client);
    return true;
}

std::optional<HttpReply> ApiServer::dispatch(const Route &route, Request &request,
                                             QByteArrayView authorization, QTcpSocket *socket)
{
    AccessControl &access = m_services.access;
    request.viaProxy = access.readsHeadersOf(request.client);
    request.client = access.clientOf(request.client, request.headerLines);
    if (const auto refused = access.pass(route.door, authorization, request.client))
        return refusal(*refused);
    return route.handler(request, socket);
}

HttpReply ApiServer::refusal(const AccessControl::Refusal &refusal)
{
    HttpReply reply = HttpReply::text(refusal.status, refusal.reason);
    reply.extraHeaders += refusal.headerLines();
    return reply;
}

void ApiServer::finish(const std::optional<HttpReply> &reply, bool headOnly, QTcpSocket *socket)
{
    ConnectionGuard *guard = ConnectionGuard::of(socket);
    // The body apart from the head: /peers.json's 150 KB go out from the cache, not a copy.
    if (reply && !reply->later)
        guard->reply(reply->head(), headOnly ? QByteArray() : reply->body);
    guard->handled();
}

void ApiServer::account(QByteArrayView method, QByteArrayView path,
                        const std::optional<HttpReply> &reply, const QElapsedTimer &clock,
                        const QHostAddress &client)
{
    const int status = reply ? reply->status : 200;
    m_services.metrics.countRequest(ServerMetrics::routeFor(path), status,
                                    std::chrono::nanoseconds(clock.nsecsElapsed()));
    qCDebug(lcHttp, "%.*s %.*s %d %.3f ms %s", int(method.size()), method.data(), int(path.size()),
            path.data(), status, static_cast<double>(clock.nsecsElapsed()) / 1e6,
            qPrintable(client.toString()));
}

void ApiServer::missingHandler(const QHttpServerRequest &, QTcpSocket *socket)
{
    // handleRequest() answers every request, so this is never reached; answer safely anyway.
    socket->write(HttpReply::text(404, "404 page not found").serialize());
}

std::optional<HttpReply> ApiServer::publish(const Request &request, QTcpSocket *socket)
{
    if (const auto refused = m_services.access.admitPublishFrom(request.client))
        return refusal(*refused);
    auto parsed = PresenceMessage::parse(request.body);
    if (auto *error = std::get_if<PresenceMessage::Error>(&parsed)) {
        qCInfo(lcHttp, "publish from %s rejected: %s", qPrintable(request.client.toString()),
               error->text.constData());
        m_services.metrics.countPublishRejected(error->kind);
        return HttpReply::text(400, error->text);
    }
    PresenceMessage message = std::get<PresenceMessage>(std::move(parsed));
    if (const auto refused = m_services.access.admitPublishOf(request.client, message.peerId))
        return refusal(*refused);
    m_services.metrics.countPublishAccepted();
    HttpReply reply{204, {}, {}, {}};
    if (!m_services.presence.ordersPublishes()) {
        m_services.presence.publish(std::move(message)); // applied before it returns
        return reply;
    }
    // In a cluster the 204 waits until the publish is in the cluster's order and applied here:
    // then a client's next publish, wherever it goes, comes after it everywhere.
    QPointer<ConnectionGuard> guard = ConnectionGuard::of(socket);
    const quint64 place = guard->owe();
    const auto answer = [this, guard, place] {
        QMetaObject::invokeMethod(
            this,
            [guard, place] {
                if (guard)
                    guard->replyLater(place, HttpReply{204, {}, {}, {}}.serialize());
            },
            Qt::QueuedConnection);
    };
    if (!m_services.presence.publish(std::move(message), answer))
        guard->replyLater(place, reply.serialize()); // Redis is away: applied already
    reply.later = true;
    return reply;
}

std::optional<HttpReply> ApiServer::openEventStream(const Request &request, QTcpSocket *socket)
{
    auto admitted = m_services.access.admitStream(request.client, request.viaProxy,
                                                  AccessControl::Stream::EventStream);
    if (const auto *refused = std::get_if<AccessControl::Refusal>(&admitted))
        return refusal(*refused);
    // No Content-Length: the body runs until the connection closes.
    const QByteArray greeting =
        eventStreamHead + "Date: " + httpDate() + "\r\n\r\n" + SseFrame::hello;
    // Where it starts: after the last event it had (the header EventSource sends, or the query
    // for clients that cannot set one), or from a snapshot of the peers, or live.
    const QUrlQuery query(request.whole->url());
    QByteArray lastEventId = request.whole->value("Last-Event-ID");
    if (lastEventId.isEmpty())
        lastEventId =
            query.queryItemValue(QStringLiteral("lastEventId"), QUrl::FullyDecoded).toUtf8();
    const bool snapshot = query.queryItemValue(QStringLiteral("snapshot")) == QLatin1String("1");
    // An observer (the dashboard, the monitor) has no use for the punch hints a crowd of peers
    // without WebSockets makes, N² of them as it arrives.
    const bool punchHints = query.queryItemValue(QStringLiteral("punch")) != QLatin1String("0");
    // A snapshot is the peer list: with --private, like /peers.json, for operators only. A
    // resume replays events the stream is sending anyway; when it fails, the others are told
    // and go on live.
    bool mayHaveSnapshot = true;
    if ((snapshot || !lastEventId.isEmpty()) &&
        m_services.access.guards(AccessControl::Door::Private)) {
        const auto refused = m_services.access.pass(
            AccessControl::Door::Private, request.whole->value("Authorization"), request.client);
        if (refused && lastEventId.isEmpty())
            return refusal(*refused);
        mayHaveSnapshot = !refused;
    }
    handOverLater(socket,
                  [this, greeting, lastEventId, snapshot, mayHaveSnapshot, punchHints,
                   place = std::get<AddressPlaces::Place>(admitted)](SocketIo::Handle descriptor) {
                      EventHistory::Subscriber subscriber{descriptor, greeting, place, punchHints};
                      if (!lastEventId.isEmpty())
                          resumeEventStream(std::move(subscriber), lastEventId, mayHaveSnapshot);
                      else if (snapshot)
                          startFromSnapshot(std::move(subscriber));
                      else
                          m_services.events.subscribe(descriptor, greeting, place, {}, punchHints);
                  });
    return std::nullopt;
}

void ApiServer::resumeEventStream(EventHistory::Subscriber subscriber,
                                  const QByteArray &lastEventId, bool mayHaveSnapshot)
{
    const auto startOver = [this, mayHaveSnapshot](EventHistory::Subscriber lost,
                                                   const QByteArray &reason) {
        if (mayHaveSnapshot) {
            startFromSnapshot(std::move(lost), EventHistory::resetFrame(reason));
            return;
        }
        m_services.events.subscribe(
            lost.socket,
            lost.greeting +
                EventHistory::resetFrame(reason + ", and a snapshot is for operators (--private)"),
            std::move(lost.place), {}, lost.punchHints);
    };
    using Kind = EventHistory::Resumption::Kind;
    const EventHistory::Resumption resumption = m_services.history.resume(subscriber, lastEventId);
    switch (resumption.kind) {
    case Kind::Resumed:
        qCDebug(lcHttp, "event stream resumed after %s: %lld events replayed",
                goQuoted(lastEventId).constData(), static_cast<long long>(resumption.replayed));
        break;
    case Kind::Waiting:
        // Another instance sent that event; this one has not read it from the cluster yet.
        QTimer::singleShot(clusterCatchUp, this, [this, startOver, ticket = resumption.ticket] {
            if (auto waiting = m_services.history.stopWaiting(ticket))
                startOver(std::move(*waiting),
                          "an event ID this instance has not received from the cluster");
        });
        break;
    case Kind::Lost:
        qCDebug(lcHttp, "event stream cannot resume after %s (%s): snapshot",
                goQuoted(lastEventId).constData(), resumption.reason.constData());
        startOver(std::move(subscriber), resumption.reason);
        break;
    }
}

void ApiServer::startFromSnapshot(EventHistory::Subscriber subscriber, const QByteArray &preface)
{
    m_services.presence.whileLocked([&](const std::function<QList<QByteArray>()> &rowEvents) {
        m_services.history.subscribeWithSnapshot(std::move(subscriber), rowEvents, preface);
    });
}

std::optional<HttpReply> ApiServer::openWebSocket(const Request &request, QTcpSocket *socket)
{
    // The current server's order: probe, peer_id, what is known of the peer, then the upgrade.
    const auto query = WebSocketHandshake::readQuery(request.target);
    const auto validated =
        WebSocketHandshake::validate(methodName(request.method), request.headerLines);
    const auto refusal = std::get_if<WebSocketHandshake::Refusal>(&validated);
    const auto refuse = [](int status, QByteArrayView reason, bool versionHeader) {
        HttpReply reply = HttpReply::text(status, reason);
        if (versionHeader)
            reply.extraHeaders += "Sec-WebSocket-Version: 13\r\n";
        return std::optional(reply);
    };
    if (query.probe) {
        if (refusal)
            return refuse(refusal->status, refusal->reason, true);
        // Upgraded, then closed at once: the client learns that /ws works here.
        m_services.metrics.countWebSocketProbe();
        ConnectionGuard *guard = ConnectionGuard::of(socket);
        const quint64 place = guard->owe();
        const QByteArray bytes =
            WebSocketHandshake::switchingProtocols(std::get<QByteArray>(validated)) +
            WebSocketFrames::close(WebSocketFrames::NormalClosure, "probe-ok");
        QMetaObject::invokeMethod(
            this,
            [guard = QPointer<ConnectionGuard>(guard), place, bytes] {
                if (!guard)
                    return;
                guard->replyLater(place, bytes);
                guard->closeWhenAnswered();
            },
            Qt::QueuedConnection);
        HttpReply reply{101, {}, {}, {}};
        reply.later = true;
        return reply;
    }
    if (query.peerId.isEmpty())
        return refuse(400, "peer_id required", false);
    const auto admission = m_services.webSockets.admit(query.peerId, request.client);
    switch (admission) {
    case WebSocketPeers::Admission::UnknownPeer:
        return refuse(425, "unknown peer \u2014 publish first", false);
    case WebSocketPeers::Admission::TooManyFromAddress:
        return refuse(429, "too many WebSocket connections from this IP", false);
    case WebSocketPeers::Admission::Admitted:
    case WebSocketPeers::Admission::Redial:
        break;
    }
    auto admitted = m_services.access.admitStream(request.client, request.viaProxy,
                                                  admission == WebSocketPeers::Admission::Redial
                                                      ? AccessControl::Stream::WebSocketRedial
                                                      : AccessControl::Stream::WebSocket);
    if (const auto *refused = std::get_if<AccessControl::Refusal>(&admitted))
        return this->refusal(*refused);
    if (refusal)
        return refuse(refusal->status, refusal->reason, true);
    const QByteArray greeting =
        WebSocketHandshake::switchingProtocols(std::get<QByteArray>(validated));
    handOverLater(socket,
                  [this, peerId = query.peerId, client = request.client, greeting,
                   place = std::get<AddressPlaces::Place>(admitted)](SocketIo::Handle descriptor) {
                      m_services.webSockets.attach(peerId, client, descriptor, greeting, place);
                  });
    HttpReply reply{101, {}, {}, {}};
    reply.later = true;
    return reply;
}

void ApiServer::handOverLater(QTcpSocket *socket, Adopt adopt)
{
    ConnectionGuard *guard = ConnectionGuard::of(socket);
    guard->startStreaming();
    // Not from inside the handler: the guard may still be reading this request's bytes.
    QMetaObject::invokeMethod(
        this,
        [this, socket = QPointer<QTcpSocket>(socket), adopt = std::move(adopt)] {
            if (!socket)
                return;
            ConnectionGuard *current = ConnectionGuard::of(socket);
            if (!current->owesReplies()) {
                startStreamAfterPendingWrites(socket, adopt);
                return;
            }
            // A pipelined publish before it still waits for the cluster: the stream starts
            // after its answer.
            connect(
                current, &ConnectionGuard::repliesSent, this,
                [this, socket, adopt] {
                    if (socket)
                        startStreamAfterPendingWrites(socket, adopt);
                },
                Qt::SingleShotConnection);
        },
        Qt::QueuedConnection);
}

void ApiServer::startStreamAfterPendingWrites(QTcpSocket *socket, const Adopt &adopt)
{
    socket->flush();
    if (socket->bytesToWrite() == 0) {
        handOverStream(socket, adopt);
    } else {
        // An earlier answer on this keep-alive connection is still leaving: the stream starts
        // after it, so that the bytes stay in order.
        auto connection = std::make_shared<QMetaObject::Connection>();
        *connection =
            connect(socket, &QTcpSocket::bytesWritten, this, [this, socket, adopt, connection] {
                if (socket->bytesToWrite() == 0) {
                    disconnect(*connection);
                    handOverStream(socket, adopt);
                }
            });
    }
}

void ApiServer::handOverStream(QTcpSocket *socket, const Adopt &adopt)
{
    // The event hub's writer threads own the connection from now on.
    const SocketIo::Handle descriptor = ConnectionGuard::of(socket)->takeConnection();
    if (descriptor == SocketIo::invalidHandle) {
        qCWarning(lcSse, "cannot take over a stream: %s", qPrintable(SocketIo::lastError()));
        socket->abort();
        return;
    }
    adopt(descriptor);
}
