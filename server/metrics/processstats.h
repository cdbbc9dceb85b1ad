#pragma once

#include <QtGlobal>

#include <optional>

// What the process uses, for the process_* families of /metrics (Prometheus' standard names),
// read the way each system offers it: /proc on Linux, Mach and libproc on macOS, the process
// API on Windows.
struct ProcessStats
{
    qint64 residentBytes = 0;
    double cpuSeconds = 0;              // user + system
    std::optional<qint64> openFiles;    // descriptors; handles on Windows
    std::optional<qint64> maxOpenFiles; // none on Windows, which has no such limit

    static ProcessStats read();
};

// Raises the soft limit on open files to the hard one (a subscriber is a descriptor) and
// returns the limit now in force.
qint64 raiseOpenFileLimit();
