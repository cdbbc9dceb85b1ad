#pragma once

#include "access/accesscontrol.h"
#include "connectionguard.h"
#include "httpreply.h"
#include "servermetrics.h"
#include "socketio.h"

#include <QAbstractHttpServer>
#include <QElapsedTimer>
#include <QHttpServerRequest>

#include <functional>

class ConnectionBudget;
class DashboardFiles;
class EventHub;
class LogSink;
class PresenceService;
class WebSocketPeers;

// The HTTP face of the rendezvous: one route per protocol endpoint, matched on the exact path
// (6.4's routes are regular expressions and give 404 for a wrong method; we answer 405).
// Several ApiServers, one per thread, share the services below; each must be thread-safe.
class ApiServer : public QAbstractHttpServer
{
    Q_OBJECT

public:
    struct Services
    {
        PresenceService &presence;
        EventHub &events;
        EventHistory &history;
        WebSocketPeers &webSockets;
        AccessControl &access;
        ConnectionBudget &budget;
        const LogSink &logs;
        const DashboardFiles &dashboard;
        ServerMetrics &metrics;
        std::function<ServerMetrics::Gauges()> gauges; // read for /metrics
        QByteArray relayJson;                          // the /relay answer; empty: no relay (404)
        std::function<QByteArray()> rendezvousJson;    // /rendezvous.json; empty: no point (404)
    };

    explicit ApiServer(const Services &services, QObject *parent = nullptr);

    // The guard's fast lane: answers a request for a route that needs only the method and the
    // body (publish, peers.json, healthz, metrics, logs.json) from its bytes, exactly as
    // handleRequest() would, without QtHttpServer's request object; false for anything else.
    bool answerDirectly(const ConnectionGuard::RawRequest &request, QTcpSocket *socket);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    // What a handler sees of a request; `whole` only through QtHttpServer's door.
    struct Request
    {
        QHttpServerRequest::Method method;
        QByteArrayView target;
        QByteArrayView headerLines; // "Name: value" lines
        QByteArrayView body;
        const QHttpServerRequest *whole;
        QHostAddress client = {}; // behind a trusted proxy, the client it names
        bool viaProxy = false;
    };
    // A handler's answer; nullopt when it has taken the socket over (an event stream).
    using Handler = std::function<std::optional<HttpReply>(const Request &, QTcpSocket *)>;
    struct Route
    {
        QHttpServerRequest::Methods methods;
        AccessControl::Door door;
        Handler handler;
        bool fromBytes; // needs neither `whole` nor the socket to itself: fast lane allowed
    };

    // Both doors end here: who the client is, the operators' door, then the route's handler.
    std::optional<HttpReply> dispatch(const Route &route, Request &request,
                                      QByteArrayView authorization, QTcpSocket *socket);
    static HttpReply refusal(const AccessControl::Refusal &refusal);

    std::optional<HttpReply> publish(const Request &request, QTcpSocket *socket);
    std::optional<HttpReply> openEventStream(const Request &request, QTcpSocket *socket);
    void resumeEventStream(EventHistory::Subscriber subscriber, const QByteArray &lastEventId,
                           bool mayHaveSnapshot);
    void startFromSnapshot(EventHistory::Subscriber subscriber, const QByteArray &preface = {});
    // How long a stream resuming after an event another instance sent waits for this one to
    // read it from the cluster, before it is given a snapshot instead.
    static constexpr std::chrono::milliseconds clusterCatchUp{3000};
    std::optional<HttpReply> openWebSocket(const Request &request, QTcpSocket *socket);
    // The connection leaves Qt for the event hub (`adopt` takes a duplicate of its descriptor)
    // once the answers before it have left, after this handler returns.
    using Adopt = std::function<void(SocketIo::Handle)>;
    void handOverLater(QTcpSocket *socket, Adopt adopt);
    void startStreamAfterPendingWrites(QTcpSocket *socket, const Adopt &adopt);
    void handOverStream(QTcpSocket *socket, const Adopt &adopt);

    // What every answered request ends with, through either door.
    static void finish(const std::optional<HttpReply> &reply, bool headOnly, QTcpSocket *socket);
    void account(QByteArrayView method, QByteArrayView path, const std::optional<HttpReply> &reply,
                 const QElapsedTimer &clock, const QHostAddress &client);

    Services m_services;
    QHash<QByteArray, Route> m_routes; // by decoded path
};
