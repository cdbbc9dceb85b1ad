#pragma once

#include <QByteArrayView>
#include <QHostAddress>
#include <QString>
#include <QtGlobal>

// The few socket calls the server makes itself, outside Qt (direct sends on the hot path, the
// event streams, the listening sockets), written once for Linux, macOS and Windows. A socket is
// a descriptor on POSIX and a SOCKET on Windows; both fit a qintptr, as in Qt's own API.
namespace SocketIo {

using Handle = qintptr;
constexpr Handle invalidHandle = -1;

// Which calls the event-stream writers wait and send with: the best the platform has (epoll and
// io_uring on Linux), or the portable ones every platform has (poll() and one send() per
// socket), which is what macOS and Windows run and what the tests also try on Linux.
enum class Calls
{
    Best,
    Portable
};

// Winsock must be started before the first socket call on Windows (Qt does it only when it
// makes its first socket); elsewhere nothing. Cheap to call again.
void initialize();

// Sends what the socket takes now, never blocking and never raising SIGPIPE. Returns the bytes
// sent (0 when the socket is full), or -1 when the connection is gone.
qint64 sendNow(Handle socket, const char *data, qint64 size);
// The same for `first` followed by `second`, gathered by the kernel in one call: a large body
// goes out behind its head without being copied there first.
qint64 sendNow(Handle socket, QByteArrayView first, QByteArrayView second);

// Reads what is there into `buffer`. Returns the bytes read, 0 when nothing is waiting, or -1
// at the end of the stream or on an error.
qint64 receiveNow(Handle socket, char *buffer, qint64 size);
// The same, leaving what it reads in the socket for the next reader.
qint64 peekNow(Handle socket, char *buffer, qint64 size);

// A second handle on the same connection (not inherited by child processes, non-blocking):
// closing the first one, as Qt does when it lets go of a socket, leaves the connection open.
Handle duplicate(Handle socket);

void close(Handle socket);
void shutdownBoth(Handle socket); // ends the connection even while other handles are open

// Linux spreads one port's connections over the sockets listening on it with SO_REUSEPORT.
// Elsewhere the option does not balance (BSD and macOS hand every connection to one socket) or
// does not exist (Windows).
#ifdef Q_OS_LINUX
constexpr bool kernelSpreadsSharedPort = true;
#else
constexpr bool kernelSpreadsSharedPort = false;
#endif

// A bound, listening TCP socket (not inherited by child processes); invalidHandle and a
// one-line `error` on failure. The "any" address listens on IPv6 and IPv4 at once. With
// `sharePort` (Linux only) other sockets may listen on the same port.
Handle listen(const QHostAddress &host, quint16 port, bool sharePort, QString *error);
quint16 localPort(Handle socket);

// Two connected stream sockets, for waking a thread that waits on sockets.
bool connectedPair(Handle pair[2]);

// "address:port" of the remote end, or "?".
QString peerName(Handle socket);

// The last error of a socket call, in words.
QString lastError();

} // namespace SocketIo
