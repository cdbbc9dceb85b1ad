#pragma once

#include <QObject>

class QTimer;

// Tells systemd how the daemon is doing (sd_notify): READY=1 once the socket listens, so a
// Type=notify unit and everything ordered after it start only when requests can be served;
// STOPPING=1 on shutdown; WATCHDOG=1 from the event loop, so a hung loop gets the service
// restarted. Built without libsystemd, or started outside systemd, every call does nothing.
class SystemdNotifier : public QObject
{
    Q_OBJECT

public:
    explicit SystemdNotifier(QObject *parent = nullptr);

    // True when built with libsystemd and started by systemd with a notification socket.
    bool isActive() const { return m_active; }

    // Reports readiness and starts the watchdog pings if the unit set WatchdogSec=.
    void ready(const QString &status);
    void stopping(const QString &status);
    void status(const QString &status);

private:
    void notify(const QByteArray &state);

    bool m_active = false;
    QTimer *m_watchdog = nullptr;
};
