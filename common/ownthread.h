#pragma once

#include "threadsanitizer.h"

#include <QString>
#include <QThread>

#include <functional>
#include <memory>

// A thread an object keeps for itself (a stream writer, the history's packer), named for top -H,
// perf and gdb. ThreadSanitizer is told what QThread orders: what the object did before the
// start happens before `body`, and all `body` did happens before waitForOwnThread() returns.
inline std::unique_ptr<QThread> startOwnThread(const void *owner, const QString &name,
                                               std::function<void()> body)
{
    std::unique_ptr<QThread> thread(QThread::create([owner, body = std::move(body)] {
        ThreadSanitizer::acquire(owner);
        body();
        ThreadSanitizer::release(owner);
    }));
    thread->setObjectName(name);
    ThreadSanitizer::release(owner);
    thread->start();
    return thread;
}

// Waits for the thread, once `body` has been told to return.
inline void waitForOwnThread(const void *owner, QThread &thread)
{
    thread.wait();
    ThreadSanitizer::acquire(owner);
}
