#include "httpworker.h"

#include "guardedtcpserver.h"

#include <QHostAddress>

#include <cstring>

#ifdef Q_OS_WIN
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

HttpWorker::HttpWorker(SocketIo::Handle listeningSocket, const ConnectionGuard::Limits &limits,
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
            auto *listener = new GuardedTcpServer(
                limits, services.budget, services.metrics,
                [api](const ConnectionGuard::RawRequest &request, QTcpSocket *socket) {
                    return api->answerDirectly(request, socket);
                });
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

#ifdef Q_OS_LINUX
// Linux spreads a port's connections over the sockets bound with SO_REUSEPORT. Elsewhere the
// option does not balance (BSD and macOS hand every connection to one socket) or does not exist
// (Windows), so one HTTP thread listens there.
constexpr bool kernelSpreadsConnections = true;
#else
constexpr bool kernelSpreadsConnections = false;
#endif

SocketIo::Handle newStreamSocket(int family)
{
#ifdef Q_OS_WIN
    const SOCKET socket = ::WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                                       WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    return socket == INVALID_SOCKET ? SocketIo::invalidHandle : SocketIo::Handle(socket);
#elif defined(Q_OS_LINUX)
    const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? SocketIo::invalidHandle : fd;
#else
    const int fd = ::socket(family, SOCK_STREAM, 0);
    if (fd >= 0)
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd < 0 ? SocketIo::invalidHandle : fd;
#endif
}

template <typename T> void setOption(SocketIo::Handle socket, int level, int option, T value)
{
#ifdef Q_OS_WIN
    ::setsockopt(SOCKET(socket), level, option, reinterpret_cast<const char *>(&value),
                 sizeof value);
#else
    ::setsockopt(int(socket), level, option, &value, sizeof value);
#endif
}

// A bound, listening socket; invalidHandle and `error` on failure.
SocketIo::Handle listenOn(const QHostAddress &host, quint16 port, bool reusePort, QString *error)
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
    SocketIo::initialize();
    const SocketIo::Handle socket = newStreamSocket(address.ss_family);
    if (socket == SocketIo::invalidHandle) {
        *error = SocketIo::lastError().toLower();
        return SocketIo::invalidHandle;
    }
    const int on = 1;
#ifdef Q_OS_WIN
    // SO_REUSEADDR on Windows would let another process take the port from under us.
    setOption(socket, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, on);
#else
    setOption(socket, SOL_SOCKET, SO_REUSEADDR, on);
#endif
#ifdef Q_OS_LINUX
    if (reusePort)
        setOption(socket, SOL_SOCKET, SO_REUSEPORT, on);
#else
    Q_UNUSED(reusePort)
#endif
    if (address.ss_family == AF_INET6)
        setOption(socket, IPPROTO_IPV6, IPV6_V6ONLY, dualStack ? 0 : 1);
#ifdef Q_OS_WIN
    const SOCKET native = SOCKET(socket);
#else
    const int native = int(socket);
#endif
    if (::bind(native, reinterpret_cast<sockaddr *>(&address), length) != 0 ||
        ::listen(native, 4096) != 0) {
        *error = SocketIo::lastError().toLower();
        SocketIo::close(socket);
        return SocketIo::invalidHandle;
    }
    return socket;
}

quint16 portOf(SocketIo::Handle socket)
{
    sockaddr_storage address{};
    socklen_t length = sizeof address;
#ifdef Q_OS_WIN
    ::getsockname(SOCKET(socket), reinterpret_cast<sockaddr *>(&address), &length);
#else
    ::getsockname(int(socket), reinterpret_cast<sockaddr *>(&address), &length);
#endif
    return ntohs(address.ss_family == AF_INET6
                     ? reinterpret_cast<sockaddr_in6 *>(&address)->sin6_port
                     : reinterpret_cast<sockaddr_in *>(&address)->sin_port);
}

} // namespace

std::vector<SocketIo::Handle> openListeningSockets(const QHostAddress &host, quint16 port,
                                                   int count, quint16 *boundPort, QString *error)
{
    if (!kernelSpreadsConnections)
        count = 1;
    const SocketIo::Handle probe = listenOn(host, port, false, error);
    if (probe == SocketIo::invalidHandle)
        return {};
    if (count == 1) {
        *boundPort = portOf(probe);
        return {probe};
    }
    port = portOf(probe);
    SocketIo::close(probe);
    *boundPort = port;
    std::vector<SocketIo::Handle> sockets;
    for (int i = 0; i < count; ++i) {
        const SocketIo::Handle socket = listenOn(host, port, true, error);
        if (socket == SocketIo::invalidHandle) {
            for (const SocketIo::Handle open : sockets)
                SocketIo::close(open);
            return {};
        }
        sockets.push_back(socket);
    }
    return sockets;
}
