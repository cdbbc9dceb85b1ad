#include "systemdnotifier.h"

#include "logcategories.h"

#include <QTimer>

#include <chrono>

#ifdef GOOP_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

SystemdNotifier::SystemdNotifier(QObject *parent) : QObject(parent)
{
#ifdef GOOP_HAVE_SYSTEMD
    m_active = qEnvironmentVariableIsSet("NOTIFY_SOCKET");
#endif
}

void SystemdNotifier::ready(const QString &status)
{
    if (!m_active)
        return;
    notify("READY=1\nSTATUS=" + status.toUtf8());
#ifdef GOOP_HAVE_SYSTEMD
    // sd_watchdog_enabled() also checks WATCHDOG_PID, so a child that inherited the
    // environment by accident does not ping on the daemon's behalf.
    uint64_t watchdogUsec = 0;
    if (sd_watchdog_enabled(0, &watchdogUsec) <= 0 || watchdogUsec == 0)
        return;
    // Half the deadline, as sd_watchdog_enabled(3) recommends: one late tick is no restart.
    const auto interval = std::chrono::milliseconds(qMax<uint64_t>(1, watchdogUsec / 2000));
    m_watchdog = new QTimer(this);
    m_watchdog->setInterval(interval);
    connect(m_watchdog, &QTimer::timeout, this, [this] { notify("WATCHDOG=1"); });
    m_watchdog->start();
    qCInfo(lcApp, "systemd watchdog: pinging every %lld ms",
           static_cast<long long>(interval.count()));
#endif
}

void SystemdNotifier::stopping(const QString &status)
{
    if (!m_active)
        return;
    // Keep pinging while the streams close: stopping takes a moment, and a missed ping
    // during it would turn a clean stop into a watchdog kill.
    notify("STOPPING=1\nSTATUS=" + status.toUtf8());
}

void SystemdNotifier::status(const QString &status)
{
    if (m_active)
        notify("STATUS=" + status.toUtf8());
}

void SystemdNotifier::notify(const QByteArray &state)
{
#ifdef GOOP_HAVE_SYSTEMD
    // A lost notification only costs readiness or a restart; it must never stop the daemon.
    if (sd_notify(0, state.constData()) < 0)
        qCWarning(lcApp, "sd_notify failed for \"%s\"",
                  state.left(state.indexOf('\n')).constData());
#else
    Q_UNUSED(state)
#endif
}
