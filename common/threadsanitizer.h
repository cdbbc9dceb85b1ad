#pragma once

// ThreadSanitizer sees the synchronisation of the C library and of code built with it, but not
// that inside Qt, which Debian builds without it (QMutex and QThread::wait use futexes
// directly): where the project relies on Qt to order two threads, it says so here, so that a
// TSan build reports the races that are real and not these.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GOOP_THREAD_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define GOOP_THREAD_SANITIZER 1
#endif

#ifdef GOOP_THREAD_SANITIZER
extern "C" void __tsan_acquire(void *address);
extern "C" void __tsan_release(void *address);
#endif

namespace ThreadSanitizer {

// What one thread did before release(x) happens before what another does after acquire(x).
inline void release([[maybe_unused]] const void *address)
{
#ifdef GOOP_THREAD_SANITIZER
    __tsan_release(const_cast<void *>(address));
#endif
}
inline void acquire([[maybe_unused]] const void *address)
{
#ifdef GOOP_THREAD_SANITIZER
    __tsan_acquire(const_cast<void *>(address));
#endif
}

} // namespace ThreadSanitizer
