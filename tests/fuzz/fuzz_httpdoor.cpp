// libFuzzer target: the HTTP door, the way a client meets it: the real server (the connection
// guard, the fast lane, QtHttpServer behind them, the routes) runs in this process on a
// loopback port, and each input is sent on a fresh connection, cut in two where its first byte
// says (so that a request can span reads). Properties: every answer is an HTTP/1.1 status line,
// and the server still answers /healthz afterwards. A crash, a leak or undefined behaviour in
// any of it is a finding (ASan, UBSan). A few hundred inputs a second.
#include "app/logsink.h"
#include "app/rendezvousserver.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QTcpSocket>
#include <QUrl>

#include <cstdint>
#include <cstdlib>

namespace {

// Never destroyed: they live as long as the process, and Qt's own statics go first at exit.
QCoreApplication *application = nullptr;
LogSink *logs = nullptr;
RendezvousServer *server = nullptr;
quint16 port = 0;

// Writes `first`, then `second`, and reads until the server closes or is quiet for `quietMs`.
QByteArray exchange(QByteArrayView first, QByteArrayView second, int quietMs = 5)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(2000))
        std::abort(); // the server stopped accepting
    socket.write(first.data(), first.size());
    socket.waitForBytesWritten(100);
    socket.write(second.data(), second.size());
    QByteArray answers;
    while (socket.waitForReadyRead(quietMs))
        answers += socket.readAll();
    return answers + socket.readAll();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    application = new QCoreApplication(*argc, *argv);
    QLoggingCategory::setFilterRules(QStringLiteral("goop.*=false")); // a line per input otherwise
    logs = new LogSink;
    ServerConfig config;
    config.host = QStringLiteral("127.0.0.1");
    config.port = 0;
    config.threads = 1;
    config.requestTimeout = std::chrono::milliseconds(200);
    // No per-client limit may answer 429 for the fuzzer's thousands of connections.
    config.access.peerPublishes.perSecond = 0;
    config.access.addressPublishes.perSecond = 0;
    config.access.connections.perSecond = 0;
    server = new RendezvousServer(config, 1000, *logs);
    if (server->listen())
        std::abort();
    port = quint16(QUrl(server->url()).port());
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const QByteArrayView bytes(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const qsizetype split = data[0] % (bytes.size() + 1);
    const QByteArray answers = exchange(bytes.first(split), bytes.sliced(split));
    if (!answers.isEmpty() && !answers.startsWith("HTTP/1.1 "))
        std::abort();
    QCoreApplication::processEvents(); // the server's own timers, in this thread
    if (data[0] == 0) {                // now and then: still alive?
        // A generous wait: on a loaded machine under ASan an answer can take longer than 5 ms,
        // and only no answer at all means the server is stuck.
        const QByteArray health =
            exchange("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {}, 2000);
        if (!health.startsWith("HTTP/1.1 200 OK"))
            std::abort();
    }
    return 0;
}
