#include "rendezvousserver.h"

#include "apiserver.h"
#include "guardedtcpserver.h"
#include "logcategories.h"
#include "sseframe.h"

#include <QHostInfo>

namespace {

// Go's net.Listen semantics: no host means every interface, "localhost" the IPv4 loopback.
std::optional<QHostAddress> resolveListenHost(const QString &host)
{
    if (host.isEmpty())
        return QHostAddress(QHostAddress::Any);
    if (host == QLatin1String("localhost"))
        return QHostAddress(QHostAddress::LocalHost);
    QHostAddress address;
    if (address.setAddress(host))
        return address;
    const QHostInfo info = QHostInfo::fromName(host);
    if (info.error() != QHostInfo::NoError || info.addresses().isEmpty())
        return std::nullopt;
    return info.addresses().first();
}

} // namespace

RendezvousServer::RendezvousServer(const ServerConfig &config, int maxConnections,
                                   const LogSink &logs, QObject *parent)
    : QObject(parent), m_config(config), m_maxConnections(maxConnections),
      m_presence(config.peerTtl), m_events(config.maxSubscriberBacklogBytes, config.heartbeat),
      m_api(new ApiServer(m_presence, m_events, logs, m_dashboard, this))
{
    connect(&m_presence, &PresenceService::eventAccepted, &m_events,
            [this](const QByteArray &json) { m_events.broadcast(SseFrame::data(json)); });
}

RendezvousServer::~RendezvousServer() = default;

std::optional<QString> RendezvousServer::listen()
{
    const auto address = resolveListenHost(m_config.host);
    if (!address)
        return QStringLiteral("cannot listen on %1: unknown host")
            .arg(m_config.listenAddressText());
    ConnectionGuard::Limits limits;
    limits.maxHeaderBytes = m_config.maxHeaderBytes;
    limits.maxBodyBytes = m_config.maxBodyBytes;
    limits.requestTimeout = m_config.requestTimeout;
    limits.idleTimeout = m_config.idleTimeout;
    auto listener = std::make_unique<GuardedTcpServer>(limits, m_maxConnections);
    listener->setListenBacklogSize(1024);
    if (!listener->listen(*address, m_config.port)) {
        return QStringLiteral("cannot listen on %1: %2")
            .arg(m_config.listenAddressText(), listener->errorString().toLower());
    }
    m_listener = listener.release();
    m_api->bind(m_listener);
    qCInfo(lcApp, "listening on %s (up to %d connections)", qPrintable(url()), m_maxConnections);
    return std::nullopt;
}

QString RendezvousServer::url() const
{
    const QHostAddress address = m_listener ? m_listener->serverAddress() : QHostAddress();
    QString host = address.toString();
    if (address.protocol() == QAbstractSocket::IPv6Protocol)
        host = QLatin1Char('[') + host + QLatin1Char(']');
    return QStringLiteral("http://%1:%2").arg(host).arg(m_listener ? m_listener->serverPort() : 0);
}

void RendezvousServer::stop()
{
    if (m_listener)
        m_listener->close();
    m_events.closeAll();
}
