// monitor_bench: is goop-monitor responsive with 10,000 peers and 200 events/s?
//
// Not a ctest test (it takes ~25 s and reports figures, it does not pass or fail): build the
// target `monitor_bench` and run it. It starts the real server, publishes 10,000 peers, opens
// the real window (offscreen unless QT_QPA_PLATFORM says otherwise) sorted by "last seen" (the
// worst case: every update moves a row), then publishes 200 events/s for 10 s from another
// thread and reports:
//   - the snapshot load time (10,000 rows into the table),
//   - the GUI thread's CPU time per event during the stream (everything: parse, model, proxy
//     re-sort, painting, ticks), from getrusage(RUSAGE_THREAD),
//   - event-loop latency: how late a 10 ms timer fires (p50/p99/max),
//   - the pure model cost per event (session + sorted proxy, no painting), 100,000 events, one
//     event at a time and in batches of 40 (what 200 events/s give at the 200 ms batch interval).
// Options: --sort-by-id (the default sort instead of "last seen"), --batch-ms N (the session's
// batch interval; 0 applies every event as it arrives, as the monitor did before batching).
#include "eventlogmodel.h"
#include "httpclient.h"
#include "mainwindow.h"
#include "monitorsession.h"
#include "monitortesthelpers.h"
#include "peerproxymodel.h"
#include "peertablemodel.h"
#include "serverprocess.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QRandomGenerator>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <sys/resource.h>

using MonitorTest::peerId;

namespace {

constexpr int peerCount = 10000;
constexpr int eventsPerSecond = 200;
constexpr int streamSeconds = 10;

double threadCpuMs()
{
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3 +
           usage.ru_stime.tv_sec * 1e3 + usage.ru_stime.tv_usec / 1e3;
}

QByteArray extras(int i)
{
    return QByteArray(R"("email":"peer)") + QByteArray::number(i) +
           R"(@example.org","addrs":["/ip4/10.1.2.3/tcp/4001","/ip6/::1/tcp/4001"],"goopClientVersion":"2.4.1")";
}

double percentile(QList<double> values, double p)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    return values.at(
        std::min<qsizetype>(values.size() - 1, static_cast<qsizetype>(p * values.size())));
}

QList<PeerRecord> benchPeers(const QString &server)
{
    QList<PeerRecord> peers;
    for (int i = 0; i < peerCount; ++i) {
        PeerRecord record;
        record.server = server;
        record.peerId = peerId(i);
        record.label = QStringLiteral("peer %1").arg(i);
        record.type = QStringLiteral("online");
        record.lastSeen = i;
        peers.append(record);
    }
    return peers;
}

void modelOnlyCost()
{
    MonitorSession session;
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(session.peers());
    proxy.setSortRole(PeerTableModel::SortRole);
    proxy.sort(PeerTableModel::LastSeenColumn);
    const QString server = QStringLiteral("http://bench:8787");
    const QList<PeerRecord> peers = benchPeers(server);
    session.peers()->replaceServerPeers(server, peers);
    const int events = 100000;
    QElapsedTimer clock;
    clock.start();
    for (int n = 0; n < events; ++n) {
        PeerRecord record = peers.at(QRandomGenerator::global()->bounded(peerCount));
        record.type = QStringLiteral("update");
        record.lastSeen = peerCount + n;
        session.peers()->applyEvent(record);
        session.log()->append(
            {record.lastSeen, server, EventLogModel::Kind::Update, record.peerId, {}});
    }
    std::printf("model only (sorted proxy, no painting): %.1f us per event over %d events\n",
                clock.nsecsElapsed() / 1e3 / events, events);
}

// The same through the batch path and the window's proxy.
void modelOnlyBatchedCost()
{
    MonitorSession session;
    PeerProxyModel proxy(session.peers());
    proxy.sort(PeerTableModel::LastSeenColumn);
    const QString server = QStringLiteral("http://bench:8787");
    const QList<PeerRecord> peers = benchPeers(server);
    session.peers()->replaceServerPeers(server, peers);
    const int events = 100000;
    const int batch = 40;
    QElapsedTimer clock;
    clock.start();
    for (int n = 0; n < events; n += batch) {
        QList<PeerRecord> records;
        QList<EventLogModel::Entry> entries;
        for (int i = n; i < n + batch; ++i) {
            PeerRecord record = peers.at(QRandomGenerator::global()->bounded(peerCount));
            record.type = QStringLiteral("update");
            record.lastSeen = peerCount + i;
            entries.append(
                {record.lastSeen, server, EventLogModel::Kind::Update, record.peerId, {}});
            records.append(std::move(record));
        }
        session.peers()->applyEvents(records);
        session.log()->append(std::move(entries));
    }
    std::printf("model only, batches of %d (PeerProxyModel, no painting): %.1f us per event\n",
                batch, clock.nsecsElapsed() / 1e3 / events);
}

} // namespace

int main(int argc, char *argv[])
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    qputenv("QT_LOGGING_RULES", "goop.monitor.*.info=false;goop.monitor.*.debug=false");
    QApplication app(argc, argv);

    ServerProcess server({QStringLiteral("--peer-ttl"), QStringLiteral("1h")});
    if (!server.start()) {
        std::fprintf(stderr, "the server did not start\n");
        return 1;
    }
    {
        HttpClient http(server.port());
        for (int i = 0; i < peerCount; ++i)
            MonitorTest::publish(http, "online", peerId(i), QStringLiteral("peer %1").arg(i),
                                 extras(i));
    }

    QTemporaryDir dir;
    QSettings settings(dir.filePath(QStringLiteral("bench.ini")), QSettings::IniFormat);
    MonitorSession session;
    const QStringList args = QCoreApplication::arguments();
    if (const qsizetype i = args.indexOf(QStringLiteral("--batch-ms"));
        i >= 0 && i + 1 < args.size())
        session.setBatchInterval(args.at(i + 1).toInt());
    MainWindow window(&session, &settings);
    window.resize(1280, 800);
    window.show();
    // --sort-by-id: the default sort, where an update does not move its row.
    const bool byId = args.contains(QStringLiteral("--sort-by-id"));
    std::printf("sorted by %s, batch interval %d ms\n", byId ? "peer ID" : "last seen",
                session.batchInterval());
    window.peerTable()->sortByColumn(
        byId ? PeerTableModel::PeerIdColumn : PeerTableModel::LastSeenColumn, Qt::AscendingOrder);
    QElapsedTimer clock;
    clock.start();
    ServerConnection *connection = session.addServer(QUrl(server.baseUrl()));
    while (connection->state() != ServerConnection::State::Connected && clock.elapsed() < 30000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    std::printf("snapshot of %d peers loaded and shown in %lld ms\n", session.peers()->rowCount(),
                static_cast<long long>(clock.elapsed()));

    int received = 0;
    QObject::connect(connection, &ServerConnection::peerEvent, [&] { ++received; });
    QList<double> lateness;
    QElapsedTimer probeClock;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(10);
    qint64 last = 0;
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = probeClock.nsecsElapsed();
        if (last > 0)
            lateness.append(std::max(0.0, (now - last) / 1e6 - 10.0));
        last = now;
    });

    const int total = eventsPerSecond * streamSeconds;
    std::atomic<bool> done{false};
    const quint16 port = server.port();
    QThread *publisher = QThread::create([&] {
        HttpClient http(port);
        QElapsedTimer pace;
        pace.start();
        for (int n = 0; n < total; ++n) {
            // Evenly spaced: event n goes out at n * 5 ms.
            while (pace.nsecsElapsed() < qint64(n) * 1000000000 / eventsPerSecond)
                QThread::usleep(200);
            const int i = QRandomGenerator::global()->bounded(peerCount);
            MonitorTest::publish(http, "update", peerId(i),
                                 QStringLiteral("peer %1 · %2").arg(i).arg(n), extras(i));
        }
        done = true;
    });
    const double cpuBefore = threadCpuMs();
    probeClock.start();
    probe.start();
    clock.restart();
    publisher->start();
    // A real event loop (not a processEvents() spin) so that the CPU figure is the monitor's.
    QEventLoop loop;
    QTimer check;
    QObject::connect(&check, &QTimer::timeout, [&] {
        if ((done && received >= total) || clock.elapsed() > 60000)
            loop.quit();
    });
    check.start(50);
    loop.exec();
    session.flush(); // the last batch is part of the work
    const qint64 wallMs = clock.elapsed();
    probe.stop();
    const double cpuMs = threadCpuMs() - cpuBefore;
    publisher->wait();
    delete publisher;

    std::printf("stream: %d/%d events received in %lld ms (%.0f events/s)\n", received, total,
                static_cast<long long>(wallMs), received * 1000.0 / wallMs);
    std::printf("GUI thread CPU: %.0f ms for %d events = %.0f us per event (%.1f %% of one core)\n",
                cpuMs, received, cpuMs * 1000 / std::max(1, received), cpuMs * 100 / wallMs);
    std::printf(
        "event-loop latency (10 ms timer lateness): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
        percentile(lateness, 0.5), percentile(lateness, 0.99),
        lateness.isEmpty() ? 0.0 : *std::max_element(lateness.cbegin(), lateness.cend()));
    modelOnlyCost();
    modelOnlyBatchedCost();
    return received == total ? 0 : 1;
}
