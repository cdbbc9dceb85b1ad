#include "httpworker.h"

#include "blockingcall.h"
#include "guardedtcpserver.h"
#include "libp2p/threadcryptostate.h"

#include <QHostAddress>

HttpWorker::HttpWorker(SocketIo::Handle listeningSocket, const ConnectionGuard::Limits &limits,
                       IdleConnectionPark &park, const ApiServer::Services &services)
{
    m_context = new QObject;
    m_context->moveToThread(&m_thread);
    m_thread.setObjectName(QStringLiteral("http"));
    m_thread.start();
    // Qt objects must be created in the thread whose event loop serves them.
    runInThread([&] {
        auto *api = new ApiServer(services, m_context);
        auto *listener = new GuardedTcpServer(
            limits, services.budget, services.access, services.metrics,
            [api](const ConnectionGuard::RawRequest &request, QTcpSocket *socket) {
                return api->answerDirectly(request, socket);
            },
            &park);
        if (listener->setSocketDescriptor(listeningSocket)) {
            api->bind(listener);
            m_listening = true;
        } else {
            delete listener;
        }
    });
}

HttpWorker::~HttpWorker()
{
    // QHttpServer's servers made a TLS configuration, and so used OpenSSL, in this thread.
    runInThread([this] {
        delete m_context;
        releaseThreadCryptoState();
    });
    m_thread.quit();
    m_thread.wait();
}

void HttpWorker::stopListening()
{
    runInThread([this] {
        for (QTcpServer *listener : m_context->findChildren<QTcpServer *>())
            listener->close();
    });
}

void HttpWorker::runInThread(const std::function<void()> &work)
{
    runAndWait(m_context, work);
}

std::vector<SocketIo::Handle> openListeningSockets(const QHostAddress &host, quint16 port,
                                                   int count, quint16 *boundPort, QString *error)
{
    if (!SocketIo::kernelSpreadsSharedPort)
        count = 1;
    const SocketIo::Handle probe = SocketIo::listen(host, port, false, error);
    if (probe == SocketIo::invalidHandle)
        return {};
    if (count == 1) {
        *boundPort = SocketIo::localPort(probe);
        return {probe};
    }
    port = SocketIo::localPort(probe);
    SocketIo::close(probe);
    *boundPort = port;
    std::vector<SocketIo::Handle> sockets;
    for (int i = 0; i < count; ++i) {
        const SocketIo::Handle socket = SocketIo::listen(host, port, true, error);
        if (socket == SocketIo::invalidHandle) {
            for (const SocketIo::Handle open : sockets)
                SocketIo::close(open);
            return {};
        }
        sockets.push_back(socket);
    }
    return sockets;
}
