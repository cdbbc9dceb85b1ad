#pragma once

#include "socketio.h"

#include <QTest>

Q_DECLARE_METATYPE(SocketIo::Calls)

// The data rows of a test that runs with each set of calls the event streams have: the best the
// platform has (epoll and io_uring on Linux), and the portable ones macOS and Windows run.
inline void addSystemCallsRows()
{
    QTest::addColumn<SocketIo::Calls>("calls");
    QTest::newRow("best") << SocketIo::Calls::Best;
    QTest::newRow("portable") << SocketIo::Calls::Portable;
}
