#include "windowsservice.h"

#include <QPointer>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <windows.h>

// The SCM calls back on threads of its own: StartServiceCtrlDispatcher blocks the thread that
// calls it (ours, below), ServiceMain runs on another one and must not return before the
// service has stopped, and control requests arrive on the dispatcher's thread. The Qt side only
// ever sees queued calls.
struct WindowsService::Connection
{
    std::thread dispatcher;
    std::promise<bool> connected; // true: started by the SCM; false: not a service
    std::promise<void> finished;  // set by the destructor: ServiceMain may report "stopped"
    SERVICE_STATUS_HANDLE handle = nullptr;
    SERVICE_STATUS status{};
    QPointer<WindowsService> owner;
    std::mutex reporting; // the Qt thread and the dispatcher's both report
    int exitCode = 0;     // set before `finished`, read after it

    void report(DWORD state)
    {
        std::lock_guard<std::mutex> lock(reporting);
        status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
        status.dwCurrentState = state;
        status.dwControlsAccepted =
            state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
        const bool failed = state == SERVICE_STOPPED && exitCode != 0;
        status.dwWin32ExitCode = failed ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
        status.dwServiceSpecificExitCode = failed ? DWORD(exitCode) : 0;
        // Pending states promise progress within this many milliseconds (the stop takes < 2 s).
        status.dwWaitHint =
            state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING ? 5000 : 0;
        ++status.dwCheckPoint;
        ::SetServiceStatus(handle, &status);
    }
};

namespace {

WindowsService::Connection *g_connection = nullptr; // one service per process

DWORD WINAPI handleControl(DWORD control, DWORD, void *, void *)
{
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        g_connection->report(SERVICE_STOP_PENDING);
        if (WindowsService *owner = g_connection->owner.data())
            QMetaObject::invokeMethod(
                owner, [owner] { Q_EMIT owner->stopRequested(); }, Qt::QueuedConnection);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

void WINAPI serviceMain(DWORD, wchar_t **)
{
    // The name is ignored for a service that owns its process.
    g_connection->handle = ::RegisterServiceCtrlHandlerExW(L"", &handleControl, nullptr);
    if (!g_connection->handle) {
        g_connection->connected.set_value(false);
        return;
    }
    g_connection->report(SERVICE_START_PENDING);
    std::future<void> finished = g_connection->finished.get_future();
    g_connection->connected.set_value(true);
    finished.wait();
    g_connection->report(SERVICE_STOPPED);
}

} // namespace

WindowsService::WindowsService(QObject *parent)
    : QObject(parent), m_connection(std::make_unique<Connection>())
{
    m_connection->owner = this;
    g_connection = m_connection.get();
    std::future<bool> connected = m_connection->connected.get_future();
    m_connection->dispatcher = std::thread([] {
        static wchar_t name[] = L"goop-rendezvous";
        SERVICE_TABLE_ENTRYW table[] = {{name, &serviceMain}, {nullptr, nullptr}};
        // Fails at once (ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) outside the SCM; as a
        // service it returns only after ServiceMain has.
        if (!::StartServiceCtrlDispatcherW(table))
            g_connection->connected.set_value(false);
    });
    if (!connected.get()) {
        m_connection->dispatcher.join();
        g_connection = nullptr;
        m_connection.reset();
    }
}

WindowsService::~WindowsService()
{
    if (!m_connection)
        return;
    m_connection->finished.set_value();
    m_connection->dispatcher.join();
    g_connection = nullptr;
}

bool WindowsService::isActive() const
{
    return m_connection != nullptr;
}

void WindowsService::ready()
{
    if (m_connection)
        m_connection->report(SERVICE_RUNNING);
}

void WindowsService::stopping()
{
    if (m_connection)
        m_connection->report(SERVICE_STOP_PENDING);
}

void WindowsService::failed(int exitCode)
{
    if (m_connection)
        m_connection->exitCode = exitCode;
}
