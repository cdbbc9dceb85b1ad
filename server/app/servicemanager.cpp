#include "servicemanager.h"

ServiceManager::ServiceManager(QObject *parent) : QObject(parent)
{
#ifdef Q_OS_WIN
    connect(&m_windows, &WindowsService::stopRequested, this, &ServiceManager::stopRequested);
#endif
}

void ServiceManager::ready(const QString &status)
{
    m_systemd.ready(status);
#ifdef Q_OS_WIN
    m_windows.ready();
#endif
}

void ServiceManager::stopping(const QString &status)
{
    m_systemd.stopping(status);
#ifdef Q_OS_WIN
    m_windows.stopping();
#endif
}

void ServiceManager::failed(int exitCode)
{
    // systemd sees the exit status itself.
#ifdef Q_OS_WIN
    m_windows.failed(exitCode);
#else
    Q_UNUSED(exitCode)
#endif
}
