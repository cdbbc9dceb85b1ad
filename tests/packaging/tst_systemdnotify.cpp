// The real binary under a fake systemd: a datagram socket as NOTIFY_SOCKET receives what a
// Type=notify unit relies on (readiness, watchdog pings, stopping).
#include "serverprocess.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

// The systemd side of sd_notify: a bound AF_UNIX datagram socket.
class NotifySocket
{
public:
    explicit NotifySocket(const QString &path) : m_path(path)
    {
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        const QByteArray encoded = QFile::encodeName(path);
        if (m_fd < 0 || encoded.size() >= static_cast<int>(sizeof(address.sun_path)))
            return;
        std::memcpy(address.sun_path, encoded.constData(), encoded.size());
        m_bound = ::bind(m_fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0;
    }
    ~NotifySocket()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    NotifySocket(const NotifySocket &) = delete;
    NotifySocket &operator=(const NotifySocket &) = delete;

    bool isBound() const { return m_bound; }
    QString path() const { return m_path; }

    // The next datagram, or an empty array after timeoutMs.
    QByteArray receive(int timeoutMs)
    {
        pollfd descriptor{m_fd, POLLIN, 0};
        if (::poll(&descriptor, 1, timeoutMs) <= 0)
            return {};
        char buffer[4096];
        const ssize_t size = ::recv(m_fd, buffer, sizeof(buffer), 0);
        return size > 0 ? QByteArray(buffer, static_cast<int>(size)) : QByteArray();
    }

    // Every datagram that arrives within durationMs.
    QList<QByteArray> receiveFor(int durationMs)
    {
        QList<QByteArray> messages;
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < durationMs) {
            const QByteArray message =
                receive(static_cast<int>(qMax<qint64>(1, durationMs - clock.elapsed())));
            if (!message.isEmpty())
                messages.append(message);
        }
        return messages;
    }

private:
    QString m_path;
    int m_fd = -1;
    bool m_bound = false;
};

// The environment systemd gives a Type=notify service; an empty value leaves a variable out.
QProcessEnvironment notifyEnvironment(const QString &socketPath, const QString &watchdogUsec,
                                      const QString &watchdogPid)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("NOTIFY_SOCKET"), socketPath);
    environment.remove(QStringLiteral("WATCHDOG_USEC"));
    environment.remove(QStringLiteral("WATCHDOG_PID"));
    if (!watchdogUsec.isEmpty())
        environment.insert(QStringLiteral("WATCHDOG_USEC"), watchdogUsec);
    if (!watchdogPid.isEmpty())
        environment.insert(QStringLiteral("WATCHDOG_PID"), watchdogPid);
    return environment;
}

} // namespace

class TestSystemdNotify : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
#ifndef GOOP_HAVE_SYSTEMD
        QSKIP("goop-rendezvous was built without libsystemd: it sends no notifications");
#endif
    }

    void readyWatchdogAndStopping()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        NotifySocket systemd(dir.filePath(QStringLiteral("notify")));
        QVERIFY(systemd.isBound());

        // 400 ms: pings every 200 ms, so a second is enough to see several.
        ServerProcess server({}, notifyEnvironment(systemd.path(), QStringLiteral("400000"), {}));
        QVERIFY2(server.start(), server.log().constData());

        const QByteArray ready = systemd.receive(5000);
        QCOMPARE(ready, QByteArray("READY=1\nSTATUS=Serving on " + server.baseUrl().toUtf8()));

        const QList<QByteArray> pings = systemd.receiveFor(1100);
        QVERIFY2(pings.size() >= 3, QByteArray::number(pings.size()).constData());
        QVERIFY2(pings.size() <= 8, QByteArray::number(pings.size()).constData());
        for (const QByteArray &ping : pings)
            QCOMPARE(ping, QByteArray("WATCHDOG=1"));

        QVERIFY(server.terminate() >= 0);
        QCOMPARE(server.exitCode(), 0);
        QByteArray stopping;
        for (QByteArray message = systemd.receive(1000); !message.isEmpty();
             message = systemd.receive(200)) {
            if (message.startsWith("STOPPING=1"))
                stopping = message;
        }
        QCOMPARE(stopping, QByteArray("STOPPING=1\nSTATUS=Stopping on signal 15"));
    }

    void noWatchdogPings_data()
    {
        QTest::addColumn<QString>("watchdogUsec");
        QTest::addColumn<QString>("watchdogPid");
        // Without WatchdogSec the daemon announces readiness and then stays quiet.
        QTest::newRow("no watchdog requested") << QString() << QString();
        // systemd sets WATCHDOG_PID to the main process; a process that inherited the
        // variables but is not that process must not ping on its behalf.
        QTest::newRow("watchdog for another pid")
            << QStringLiteral("400000") << QString::number(::getpid());
    }

    void noWatchdogPings()
    {
        QFETCH(QString, watchdogUsec);
        QFETCH(QString, watchdogPid);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        NotifySocket systemd(dir.filePath(QStringLiteral("notify")));
        QVERIFY(systemd.isBound());
        ServerProcess server({}, notifyEnvironment(systemd.path(), watchdogUsec, watchdogPid));
        QVERIFY2(server.start(), server.log().constData());

        QVERIFY(systemd.receive(5000).startsWith("READY=1\n"));
        QCOMPARE(systemd.receiveFor(700), QList<QByteArray>());
        QVERIFY(server.terminate() >= 0);
        QCOMPARE(server.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestSystemdNotify)
#include "tst_systemdnotify.moc"
