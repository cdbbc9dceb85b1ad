#pragma once

#include "threadsanitizer.h"

#include <QMetaObject>
#include <QObject>

#include <functional>

// Runs `work` on `context`'s thread and waits for it: what the caller did before happens
// before `work`, and `work` before what the caller does after. Qt orders that with primitives
// ThreadSanitizer cannot see, so it is said here. Never call it from `context`'s own thread.
inline void runAndWait(QObject *context, const std::function<void()> &work)
{
    ThreadSanitizer::release(context);
    QMetaObject::invokeMethod(
        context,
        [context, &work] {
            ThreadSanitizer::acquire(context);
            work();
            ThreadSanitizer::release(context);
        },
        Qt::BlockingQueuedConnection);
    ThreadSanitizer::acquire(context);
}
