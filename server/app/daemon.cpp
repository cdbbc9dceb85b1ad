#include "daemon.h"

#include "goopversion.h"
#include "heaptrimmer.h"
#include "logcategories.h"
#include "logsink.h"
#include "processstats.h"
#include "rendezvousserver.h"
#include "servicemanager.h"
#include "signalwatcher.h"

#include <QCoreApplication>
#include <QTimer>

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace {

// Descriptors kept free beyond the connection cap: the listener, log output, the signal pair.
constexpr qint64 reservedDescriptors = 64;

// Long enough for the closing streams' last bytes to leave, well inside systemd's and the
// issue's 2 s stop budget.
constexpr auto closingGrace = std::chrono::milliseconds(200);

// The promise is a stop within 2 s. Should a thread ever hang (it did once: a worker looping on
// a malformed connection), the process still ends, with a non-zero status that says so.
constexpr auto stopDeadline = std::chrono::milliseconds(1900);

void enforceStopDeadline()
{
    std::thread([] {
        std::this_thread::sleep_for(stopDeadline);
        std::fprintf(stderr, "goop-rendezvous: a thread did not stop within %lld ms; exiting\n",
                     static_cast<long long>(stopDeadline.count()));
        std::_Exit(1);
    }).detach();
}

// How long a clustered instance waits for the shared state before it serves anyway (with what it
// has: nothing), so that a Redis outage never keeps an instance from starting.
constexpr auto clusterStartWait = std::chrono::milliseconds(3000);

} // namespace

int runDaemon(const ServerConfig &config)
{
    LogSink sink;
    const Logging::Installation logging(&sink, config.logLevel);

    const qint64 openFiles = raiseOpenFileLimit();
    const int maxConnections = config.maxConnections > 0
                                   ? config.maxConnections
                                   : int(qMax<qint64>(16, openFiles - reservedDescriptors));

    SignalWatcher signalWatcher;
    ServiceManager serviceManager;
    RendezvousServer server(config, maxConnections, sink);
    const auto stop = [&](const QString &reason) {
        if (server.isStopped())
            return;
        qCInfo(lcApp, "stopping %s", qPrintable(reason));
        serviceManager.stopping(QStringLiteral("Stopping ") + reason);
        server.stop();
        enforceStopDeadline();
        QTimer::singleShot(closingGrace, qApp, &QCoreApplication::quit);
    };
    // Connected first: a stop may come while the server still waits for the cluster.
    QObject::connect(&signalWatcher, &SignalWatcher::stopRequested, &server, [&](int signalNumber) {
        stop(QStringLiteral("on signal %1").arg(signalNumber));
    });
    QObject::connect(&serviceManager, &ServiceManager::stopRequested, &server,
                     [&] { stop(QStringLiteral("as the service manager asked")); });
    if (!server.waitForCluster(clusterStartWait) && !server.isStopped())
        qCWarning(lcApp,
                  "starting without the cluster's state: Redis did not answer within %lld ms",
                  static_cast<long long>(clusterStartWait.count()));
    if (server.isStopped()) {
        qCInfo(lcApp, "stopped before serving");
        return 0;
    }
    if (const auto error = server.listen()) {
        std::fprintf(stderr, "goop-rendezvous: %s\n", qPrintable(*error));
        serviceManager.failed(1);
        return 1;
    }
    qCInfo(lcApp,
           "goop-rendezvous %s ready (open-file limit %lld, peer ttl %lld ms, heartbeat %lld ms)",
           GOOP_VERSION, static_cast<long long>(openFiles),
           static_cast<long long>(config.peerTtl.count()),
           static_cast<long long>(config.heartbeat.count()));
    serviceManager.ready(QStringLiteral("Serving on %1").arg(server.url()));
    HeapTrimmer heapTrimmer;

    const int exitCode = QCoreApplication::exec();
    qCInfo(lcApp, "stopped");
    return exitCode;
}
