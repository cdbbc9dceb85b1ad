#include "processstats.h"

#ifdef Q_OS_WIN
#include <windows.h>
// after windows.h, which it needs
#include <psapi.h>
#else
#include <sys/resource.h>
#include <unistd.h>
#endif
#ifdef Q_OS_LINUX
#include <QDir>
#include <QFile>
#endif
#ifdef Q_OS_MACOS
#include <libproc.h>
#include <limits.h> // OPEN_MAX
#include <mach/mach.h>
#endif

#ifdef Q_OS_WIN

ProcessStats ProcessStats::read()
{
    ProcessStats stats;
    const HANDLE self = ::GetCurrentProcess();
    PROCESS_MEMORY_COUNTERS memory{};
    if (::GetProcessMemoryInfo(self, &memory, sizeof memory))
        stats.residentBytes = qint64(memory.WorkingSetSize);
    FILETIME created, exited, kernel, user;
    if (::GetProcessTimes(self, &created, &exited, &kernel, &user)) {
        const auto ticks = [](const FILETIME &time) {
            return double((quint64(time.dwHighDateTime) << 32) | time.dwLowDateTime);
        };
        stats.cpuSeconds = (ticks(kernel) + ticks(user)) / 1e7; // 100 ns units
    }
    DWORD handles = 0;
    if (::GetProcessHandleCount(self, &handles))
        stats.openFiles = handles;
    return stats;
}

qint64 raiseOpenFileLimit()
{
    // Winsock sockets are not bounded by a per-process descriptor limit; this is the cap's base.
    return 16384;
}

#else // POSIX

ProcessStats ProcessStats::read()
{
    ProcessStats stats;
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    stats.cpuSeconds = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0)
        stats.maxOpenFiles = qint64(files.rlim_cur);
#ifdef Q_OS_LINUX
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (statm.open(QIODevice::ReadOnly))
        stats.residentBytes =
            statm.readAll().split(' ').value(1).toLongLong() * ::sysconf(_SC_PAGESIZE);
    stats.openFiles = QDir(QStringLiteral("/proc/self/fd")).count() - 2; // without . and ..
#elif defined(Q_OS_MACOS)
    mach_task_basic_info_data_t info{};
    mach_msg_type_number_t count = MACH_TASK_BASIC_INFO_COUNT;
    if (::task_info(mach_task_self(), MACH_TASK_BASIC_INFO, reinterpret_cast<task_info_t>(&info),
                    &count) == KERN_SUCCESS)
        stats.residentBytes = qint64(info.resident_size);
    const int bytes = ::proc_pidinfo(::getpid(), PROC_PIDLISTFDS, 0, nullptr, 0);
    if (bytes > 0)
        stats.openFiles = bytes / PROC_PIDLISTFD_SIZE;
#endif
    return stats;
}

qint64 raiseOpenFileLimit()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 1024;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
#ifdef Q_OS_MACOS
        // macOS refuses a soft limit above OPEN_MAX even when the hard limit is "unlimited".
        limit.rlim_cur = qMin<rlim_t>(limit.rlim_cur, OPEN_MAX);
#endif
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    return limit.rlim_cur == RLIM_INFINITY ? 1 << 20 : qint64(limit.rlim_cur);
}

#endif
