#include "daemon.h"

#include "goopversion.h"
#include "logcategories.h"
#include "logsink.h"
#include "rendezvousserver.h"
#include "signalwatcher.h"
#include "systemdnotifier.h"

#include <QCoreApplication>
#include <QTimer>

#include <cstdio>
#include <cstdlib>
#include <sys/resource.h>
#include <thread>

namespace {

// Descriptors kept free beyond the connection cap: the listener, log output, the signal pair.
constexpr long reservedDescriptors = 64;

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

long raiseOpenFileLimit()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 1024;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    return limit.rlim_cur == RLIM_INFINITY ? 1 << 20 : static_cast<long>(limit.rlim_cur);
}

int runDaemon(const ServerConfig &config)
{
    LogSink sink;
    Logging::install(&sink, config.logLevel);

    const long openFiles = raiseOpenFileLimit();
    const int maxConnections = config.maxConnections > 0
                                   ? config.maxConnections
                                   : static_cast<int>(qMax(16L, openFiles - reservedDescriptors));

    SignalWatcher signalWatcher;
    SystemdNotifier systemd;
    RendezvousServer server(config, maxConnections, sink);
    // Connected first: a stop may come while the server still waits for the cluster.
    QObject::connect(&signalWatcher, &SignalWatcher::stopRequested, &server, [&](int signalNumber) {
        qCInfo(lcApp, "stopping on signal %d", signalNumber);
        systemd.stopping(QStringLiteral("Stopping on signal %1").arg(signalNumber));
        server.stop();
        enforceStopDeadline();
        QTimer::singleShot(closingGrace, qApp, &QCoreApplication::quit);
    });
    if (!server.waitForCluster(clusterStartWait) && !server.isStopped())
        qCWarning(lcApp,
                  "starting without the cluster's state: Redis did not answer within %lld ms",
                  static_cast<long long>(clusterStartWait.count()));
    if (server.isStopped()) {
        qCInfo(lcApp, "stopped before serving");
        Logging::uninstall();
        return 0;
    }
    if (const auto error = server.listen()) {
        Logging::uninstall();
        std::fprintf(stderr, "goop-rendezvous: %s\n", qPrintable(*error));
        return 1;
    }
    qCInfo(lcApp,
           "goop-rendezvous %s ready (open-file limit %ld, peer ttl %lld ms, heartbeat %lld ms)",
           GOOP_VERSION, openFiles, static_cast<long long>(config.peerTtl.count()),
           static_cast<long long>(config.heartbeat.count()));
    systemd.ready(QStringLiteral("Serving on %1").arg(server.url()));

    const int exitCode = QCoreApplication::exec();
    qCInfo(lcApp, "stopped");
    Logging::uninstall();
    return exitCode;
}
