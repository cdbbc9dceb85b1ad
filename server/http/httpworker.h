#pragma once

#include "apiserver.h"
#include "connectionguard.h"
#include "socketio.h"

#include <QThread>

#include <functional>
#include <vector>

class GuardedTcpServer;
class IdleConnectionPark;

// One HTTP serving thread: its own event loop, listening socket and ApiServer. On Linux several
// workers listen on the same port (SO_REUSEPORT), and the kernel spreads new connections over
// them; elsewhere there is one.
class HttpWorker
{
public:
    // Takes over `listeningSocket` (bound and listening). Idle keep-alive connections wait in
    // `park`, which must close them all (closeAll()) before the worker is destroyed.
    HttpWorker(SocketIo::Handle listeningSocket, const ConnectionGuard::Limits &limits,
               IdleConnectionPark &park, const ApiServer::Services &services);
    ~HttpWorker(); // closes its connections and stops the thread

    bool isListening() const { return m_listening; }
    void stopListening();

private:
    // Runs `work` in the worker's thread and waits for it.
    void runInThread(const std::function<void()> &work);

    QThread m_thread;
    QObject *m_context = nullptr; // lives in m_thread; parent of the servers
    bool m_listening = false;
};

// `count` listening sockets on one address (one off Linux), with SO_REUSEPORT so that each
// worker has its own.
// The address is first bound exclusively, so that a port another process holds (another
// goop-rendezvous included) is reported as in use rather than silently shared; port 0 picks
// one free port for all (`boundPort` tells which). Returns the descriptors, or none and a
// one-line reason.
std::vector<SocketIo::Handle> openListeningSockets(const class QHostAddress &host, quint16 port,
                                                   int count, quint16 *boundPort, QString *error);
