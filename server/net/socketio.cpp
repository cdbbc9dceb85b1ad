#include "socketio.h"

#include <QHostAddress>

#include <cerrno>
#include <cstring>
#include <mutex>

#ifdef Q_OS_WIN
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#endif

namespace SocketIo {

#ifdef Q_OS_WIN

namespace {
SOCKET native(Handle socket)
{
    return static_cast<SOCKET>(socket);
}
bool wouldBlock()
{
    return WSAGetLastError() == WSAEWOULDBLOCK;
}
bool setNonBlocking(SOCKET socket)
{
    u_long on = 1;
    return ::ioctlsocket(socket, FIONBIO, &on) == 0;
}
Handle newStreamSocket(int family)
{
    const SOCKET socket = ::WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                                       WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    return socket == INVALID_SOCKET ? invalidHandle : Handle(socket);
}
void setOption(Handle socket, int level, int option, int value)
{
    ::setsockopt(native(socket), level, option, reinterpret_cast<const char *>(&value),
                 sizeof value);
}
// SO_REUSEADDR on Windows would let another process take the port from under us.
constexpr int reuseAddressOption = SO_EXCLUSIVEADDRUSE;
} // namespace

void initialize()
{
    static std::once_flag once;
    std::call_once(once, [] {
        WSADATA data;
        ::WSAStartup(MAKEWORD(2, 2), &data);
    });
}

qint64 sendNow(Handle socket, const char *data, qint64 size)
{
    // Windows has no SIGPIPE; every socket here is non-blocking, so send() never waits.
    const int n = ::send(native(socket), data, int(qMin<qint64>(size, 1 << 30)), 0);
    if (n >= 0)
        return n;
    return wouldBlock() ? 0 : -1;
}

qint64 sendNow(Handle socket, QByteArrayView first, QByteArrayView second)
{
    if (second.isEmpty())
        return sendNow(socket, first.data(), first.size());
    WSABUF parts[2] = {{ULONG(first.size()), const_cast<char *>(first.data())},
                       {ULONG(second.size()), const_cast<char *>(second.data())}};
    DWORD sent = 0;
    if (::WSASend(native(socket), parts, 2, &sent, 0, nullptr, nullptr) == 0)
        return sent;
    return wouldBlock() ? 0 : -1;
}

namespace {

qint64 receive(Handle socket, char *buffer, qint64 size, int flags)
{
    const int n = ::recv(native(socket), buffer, int(qMin<qint64>(size, 1 << 30)), flags);
    if (n > 0)
        return n;
    return n < 0 && wouldBlock() ? 0 : -1;
}

} // namespace

qint64 receiveNow(Handle socket, char *buffer, qint64 size)
{
    return receive(socket, buffer, size, 0);
}

qint64 peekNow(Handle socket, char *buffer, qint64 size)
{
    return receive(socket, buffer, size, MSG_PEEK);
}

Handle duplicate(Handle socket)
{
    // WSADuplicateSocket is Winsock's way to a second handle; the target may be this process.
    WSAPROTOCOL_INFOW info{};
    if (::WSADuplicateSocketW(native(socket), ::GetCurrentProcessId(), &info) != 0)
        return invalidHandle;
    const SOCKET copy = ::WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
                                     &info, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (copy == INVALID_SOCKET)
        return invalidHandle;
    if (!setNonBlocking(copy)) {
        ::closesocket(copy);
        return invalidHandle;
    }
    return static_cast<Handle>(copy);
}

void close(Handle socket)
{
    ::closesocket(native(socket));
}

void shutdownBoth(Handle socket)
{
    ::shutdown(native(socket), SD_BOTH);
}

bool connectedPair(Handle pair[2])
{
    // No socketpair() on Windows: connect two ends through a listener on the loopback.
    initialize();
    const SOCKET listener = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (listener == INVALID_SOCKET)
        return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int length = sizeof address;
    SOCKET ends[2] = {INVALID_SOCKET, INVALID_SOCKET};
    const bool made =
        ::bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0 &&
        ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) == 0 &&
        ::listen(listener, 1) == 0 &&
        (ends[0] = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)) != INVALID_SOCKET &&
        ::connect(ends[0], reinterpret_cast<sockaddr *>(&address), sizeof address) == 0 &&
        (ends[1] = ::accept(listener, nullptr, nullptr)) != INVALID_SOCKET &&
        setNonBlocking(ends[0]) && setNonBlocking(ends[1]);
    ::closesocket(listener);
    if (!made) {
        for (const SOCKET end : ends) {
            if (end != INVALID_SOCKET)
                ::closesocket(end);
        }
        return false;
    }
    pair[0] = static_cast<Handle>(ends[0]);
    pair[1] = static_cast<Handle>(ends[1]);
    return true;
}

QString lastError()
{
    return qt_error_string(WSAGetLastError());
}

#else // POSIX: Linux and macOS

namespace {
int native(Handle socket)
{
    return static_cast<int>(socket);
}
bool wouldBlock()
{
    return errno == EAGAIN || errno == EWOULDBLOCK;
}
bool setNonBlockingCloseOnExec(int fd)
{
    return ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 &&
           ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0;
}
// Linux says "don't raise SIGPIPE" per call; macOS per socket (SO_NOSIGPIPE, set by duplicate())
// and the daemon ignores SIGPIPE besides.
#ifdef MSG_NOSIGNAL
constexpr int sendFlags = MSG_NOSIGNAL | MSG_DONTWAIT;
#else
constexpr int sendFlags = MSG_DONTWAIT;
#endif
Handle newStreamSocket(int family)
{
#ifdef Q_OS_LINUX
    const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
    const int fd = ::socket(family, SOCK_STREAM, 0);
    if (fd >= 0)
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
    return fd < 0 ? invalidHandle : fd;
}
void setOption(Handle socket, int level, int option, int value)
{
    ::setsockopt(native(socket), level, option, &value, sizeof value);
}
constexpr int reuseAddressOption = SO_REUSEADDR;
} // namespace

void initialize() {}

qint64 sendNow(Handle socket, const char *data, qint64 size)
{
    for (;;) {
        const ssize_t n = ::send(native(socket), data, size_t(size), sendFlags);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return wouldBlock() ? 0 : -1;
    }
}

qint64 sendNow(Handle socket, QByteArrayView first, QByteArrayView second)
{
    if (second.isEmpty())
        return sendNow(socket, first.data(), first.size());
    iovec parts[2] = {{const_cast<char *>(first.data()), size_t(first.size())},
                      {const_cast<char *>(second.data()), size_t(second.size())}};
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = 2;
    for (;;) {
        const ssize_t n = ::sendmsg(native(socket), &message, sendFlags);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return wouldBlock() ? 0 : -1;
    }
}

namespace {

qint64 receive(Handle socket, char *buffer, qint64 size, int flags)
{
    for (;;) {
        const ssize_t n = ::recv(native(socket), buffer, size_t(size), flags | MSG_DONTWAIT);
        if (n > 0)
            return n;
        if (n == 0)
            return -1;
        if (errno != EINTR)
            return wouldBlock() ? 0 : -1;
    }
}

} // namespace

qint64 receiveNow(Handle socket, char *buffer, qint64 size)
{
    return receive(socket, buffer, size, 0);
}

qint64 peekNow(Handle socket, char *buffer, qint64 size)
{
    return receive(socket, buffer, size, MSG_PEEK);
}

Handle duplicate(Handle socket)
{
    // The copy shares the original's file status, non-blocking included.
    const int copy = ::fcntl(native(socket), F_DUPFD_CLOEXEC, 0);
#ifdef SO_NOSIGPIPE
    const int on = 1;
    if (copy >= 0)
        ::setsockopt(copy, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
    return copy < 0 ? invalidHandle : copy;
}

void close(Handle socket)
{
    ::close(native(socket));
}

void shutdownBoth(Handle socket)
{
    ::shutdown(native(socket), SHUT_RDWR);
}

bool connectedPair(Handle pair[2])
{
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, ends) != 0)
        return false;
    if (!setNonBlockingCloseOnExec(ends[0]) || !setNonBlockingCloseOnExec(ends[1])) {
        ::close(ends[0]);
        ::close(ends[1]);
        return false;
    }
    pair[0] = ends[0];
    pair[1] = ends[1];
    return true;
}

QString lastError()
{
    return qt_error_string(errno);
}

#endif

Handle listen(const QHostAddress &host, quint16 port, bool sharePort, QString *error)
{
    sockaddr_storage address{};
    socklen_t length = 0;
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
    initialize();
    const Handle socket = newStreamSocket(address.ss_family);
    if (socket == invalidHandle) {
        *error = lastError().toLower();
        return invalidHandle;
    }
    setOption(socket, SOL_SOCKET, reuseAddressOption, 1);
#ifdef Q_OS_LINUX
    if (sharePort)
        setOption(socket, SOL_SOCKET, SO_REUSEPORT, 1);
#else
    Q_UNUSED(sharePort)
#endif
    if (address.ss_family == AF_INET6)
        setOption(socket, IPPROTO_IPV6, IPV6_V6ONLY, dualStack ? 0 : 1);
    if (::bind(native(socket), reinterpret_cast<sockaddr *>(&address), length) != 0 ||
        ::listen(native(socket), 4096) != 0) {
        *error = lastError().toLower();
        close(socket);
        return invalidHandle;
    }
    return socket;
}

quint16 localPort(Handle socket)
{
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    ::getsockname(native(socket), reinterpret_cast<sockaddr *>(&address), &length);
    return ntohs(address.ss_family == AF_INET6
                     ? reinterpret_cast<sockaddr_in6 *>(&address)->sin6_port
                     : reinterpret_cast<sockaddr_in *>(&address)->sin_port);
}

QString peerName(Handle socket)
{
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(native(socket), reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return QStringLiteral("?");
    const QHostAddress host(reinterpret_cast<sockaddr *>(&address));
    const quint16 port =
        ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&address)->sin6_port
                                            : reinterpret_cast<sockaddr_in *>(&address)->sin_port);
    return host.toString() + QLatin1Char(':') + QString::number(port);
}

} // namespace SocketIo
