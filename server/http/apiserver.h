#pragma once

#include "httpreply.h"
#include "servermetrics.h"

#include <QAbstractHttpServer>
#include <QHttpServerRequest>

#include <functional>

class ConnectionBudget;
class DashboardFiles;
class EventHub;
class LogSink;
class PresenceService;

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
        ConnectionBudget &budget;
        const LogSink &logs;
        const DashboardFiles &dashboard;
        ServerMetrics &metrics;
        std::function<ServerMetrics::Gauges()> gauges; // read for /metrics
    };

    explicit ApiServer(const Services &services, QObject *parent = nullptr);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    // A handler's answer; nullopt when it has taken the socket over (an event stream).
    using Handler =
        std::function<std::optional<HttpReply>(const QHttpServerRequest &, QTcpSocket *)>;
    struct Route
    {
        QHttpServerRequest::Methods methods;
        Handler handler;
    };

    std::optional<HttpReply> publish(const QHttpServerRequest &request, QTcpSocket *socket);
    std::optional<HttpReply> openEventStream(QTcpSocket *socket);
    void startStreamAfterPendingWrites(QTcpSocket *socket, const QByteArray &greeting);
    void handOverStream(QTcpSocket *socket, const QByteArray &greeting);

    Services m_services;
    QHash<QString, Route> m_routes;
};
