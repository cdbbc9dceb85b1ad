#include "httpworker.h"

#include "guardedtcpserver.h"

#include <QHostAddress>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

HttpWorker::HttpWorker(int listeningSocket, const ConnectionGuard::Limits &limits,
                       const ApiServer::Services &services)
{
    m_context = new QObject;
    m_context->moveToThread(&m_thread);
    m_thread.setObjectName(QStringLiteral("http"));
    m_thread.start();
    // Qt objects must be created in the thread whose event loop serves them.
    QMetaObject::invokeMethod(
        m_context,
        [&] {
            auto *api = new ApiServer(services, m_context);
            auto *listener = new GuardedTcpServer(limits, services.budget, services.metrics);
            if (listener->setSocketDescriptor(listeningSocket)) {
                api->bind(listener);
                m_listening = true;
            } else {
                delete listener;
            }
        },
        Qt::BlockingQueuedConnection);
}

HttpWorker::~HttpWorker()
{
    QMetaObject::invokeMethod(
        m_context, [this] { delete m_context; }, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

void HttpWorker::stopListening()
{
    QMetaObject::invokeMethod(
        m_context,
        [this] {
            for (QTcpServer *listener : m_context->findChildren<QTcpServer *>())
                listener->close();
        },
        Qt::BlockingQueuedConnection);
}

namespace {

// A bound, listening socket; -1 and `error` on failure.
int listenOn(const QHostAddress &host, quint16 port, bool reusePort, QString *error)
{
    sockaddr_storage address{};
    socklen_t length = 0;
    // The "any" address listens on IPv6 and IPv4 at once, like Go's ":8787".
    const bool dualStack = host == QHostAddress(QHostAddress::Any);
    if (host.protocol() == QAbstractSocket::IPv6Protocol || dualStack) {
        auto *v6 = reinterpret_cast<sockaddr_in6 *>(&address);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        const Q_IPV6ADDR bytes =
            dualStack ? QHostAddress(QHostAddress::AnyIPv6).toIPv6Address() : host.toIPv6Address();
        std::memcpy(&v6->sin6_addr, &bytes, sizeof bytes);
        v6->sin6_scope_id = host.scopeId().toUInt();
        length = sizeof(sockaddr_in6);
    } else {
        auto *v4 = reinterpret_cast<sockaddr_in *>(&address);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        v4->sin_addr.s_addr = htonl(host.toIPv4Address());
        length = sizeof(sockaddr_in);
    }
    const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *error = QString::fromLocal8Bit(strerror(errno)).toLower();
        return -1;
    }
    const int on = 1;
    const int off = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (reusePort)
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    if (address.ss_family == AF_INET6)
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dualStack ? &off : &on, sizeof on);
    if (::bind(fd, reinterpret_cast<sockaddr *>(&address), length) != 0 ||
        ::listen(fd, 4096) != 0) {
        *error = QString::fromLocal8Bit(strerror(errno)).toLower();
        ::close(fd);
        return -1;
    }
    return fd;
}

quint16 portOf(int fd)
{
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length);
    return ntohs(address.ss_family == AF_INET6
                     ? reinterpret_cast<sockaddr_in6 *>(&address)->sin6_port
                     : reinterpret_cast<sockaddr_in *>(&address)->sin_port);
}

} // namespace

std::vector<int> openListeningSockets(const QHostAddress &host, quint16 port, int count,
                                      quint16 *boundPort, QString *error)
{
    const int probe = listenOn(host, port, false, error);
    if (probe < 0)
        return {};
    port = portOf(probe);
    ::close(probe);
    *boundPort = port;
    std::vector<int> sockets;
    for (int i = 0; i < count; ++i) {
        const int fd = listenOn(host, port, true, error);
        if (fd < 0) {
            for (const int open : sockets)
                ::close(open);
            return {};
        }
        sockets.push_back(fd);
    }
    return sockets;
}
