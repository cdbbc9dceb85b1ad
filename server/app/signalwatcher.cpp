#include "signalwatcher.h"

#include <QPointer>
#include <QSocketNotifier>

#ifdef Q_OS_WIN
#include <csignal>
#include <windows.h>
#else
#include "socketio.h"

#include <csignal>
#include <unistd.h>
#endif

#ifdef Q_OS_WIN

namespace {
QPointer<SignalWatcher> g_watcher;

// Runs on a thread of its own that Windows starts for the event.
BOOL WINAPI handleConsoleEvent(DWORD event)
{
    if (!g_watcher)
        return FALSE;
    const int signalNumber = event == CTRL_C_EVENT ? SIGINT : SIGTERM;
    QMetaObject::invokeMethod(
        g_watcher.data(), [signalNumber] { Q_EMIT g_watcher->stopRequested(signalNumber); },
        Qt::QueuedConnection);
    return TRUE;
}
} // namespace

SignalWatcher::SignalWatcher(QObject *parent) : QObject(parent)
{
    // Ctrl+C, Ctrl+Break, the console closing and the session ending stand for SIGINT/SIGTERM.
    g_watcher = this;
    ::SetConsoleCtrlHandler(&handleConsoleEvent, TRUE);
}

SignalWatcher::~SignalWatcher()
{
    ::SetConsoleCtrlHandler(&handleConsoleEvent, FALSE);
}

#else

namespace {
SocketIo::Handle g_signalPipe[2] = {SocketIo::invalidHandle, SocketIo::invalidHandle};
}

SignalWatcher::SignalWatcher(QObject *parent) : QObject(parent)
{
    if (!SocketIo::connectedPair(g_signalPipe))
        qFatal("cannot create the signal socket pair");
    m_notifier = new QSocketNotifier(g_signalPipe[1], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &SignalWatcher::readSignal);

    struct sigaction action = {};
    action.sa_handler = &SignalWatcher::handle;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGTERM, &action, nullptr);
    ::sigaction(SIGINT, &action, nullptr);
    // A peer that closes its stream must not kill the process when we write to it.
    ::signal(SIGPIPE, SIG_IGN);
}

SignalWatcher::~SignalWatcher()
{
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    SocketIo::close(g_signalPipe[0]);
    SocketIo::close(g_signalPipe[1]);
    g_signalPipe[0] = g_signalPipe[1] = SocketIo::invalidHandle;
}

void SignalWatcher::handle(int signalNumber)
{
    const unsigned char byte = static_cast<unsigned char>(signalNumber);
    [[maybe_unused]] const auto written = ::write(int(g_signalPipe[0]), &byte, 1);
}

void SignalWatcher::readSignal()
{
    unsigned char byte = 0;
    if (::read(int(g_signalPipe[1]), &byte, 1) == 1)
        Q_EMIT stopRequested(byte);
}

#endif
