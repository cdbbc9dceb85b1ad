#pragma once

#include "httpreply.h"

#include <QAbstractHttpServer>
#include <QHttpServerRequest>

#include <functional>

class DashboardFiles;
class EventHub;
class LogSink;
class PresenceService;

// The HTTP face of the rendezvous: one route per protocol endpoint, matched on the exact path
// (6.4's routes are regular expressions and give 404 for a wrong method; we answer 405).
class ApiServer : public QAbstractHttpServer
{
    Q_OBJECT

public:
    ApiServer(PresenceService &presence, EventHub &events, const LogSink &logs,
              const DashboardFiles &dashboard, QObject *parent = nullptr);

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

    std::optional<HttpReply> publish(const QHttpServerRequest &request);
    std::optional<HttpReply> openEventStream(QTcpSocket *socket);

    PresenceService &m_presence;
    EventHub &m_events;
    QHash<QString, Route> m_routes;
};
