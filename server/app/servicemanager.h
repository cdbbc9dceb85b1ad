#pragma once

#include "systemdnotifier.h"
#ifdef Q_OS_WIN
#include "windowsservice.h"
#endif

#include <QObject>

// The service manager the daemon runs under, whichever it is: systemd on Linux (readiness,
// stopping, watchdog), the Service Control Manager on Windows (which also asks it to stop).
// launchd and a console need nothing. Where there is no manager every call does nothing.
class ServiceManager : public QObject
{
    Q_OBJECT

public:
    explicit ServiceManager(QObject *parent = nullptr);

    void ready(const QString &status);
    void stopping(const QString &status);
    // The daemon ends with an error: reported as a failure, so that a restart policy applies.
    void failed(int exitCode);

Q_SIGNALS:
    void stopRequested(); // by the manager itself (the SCM's stop or shutdown)

private:
    SystemdNotifier m_systemd;
#ifdef Q_OS_WIN
    WindowsService m_windows;
#endif
};
