#pragma once

// OpenSSL keeps state per thread (its error queue, its random generators) and frees it from a
// thread-exit handler. QThread::wait() returns before that handler runs, so when the process
// exits right after a thread stops, OpenSSL's own cleanup at exit can come first and the
// thread's state is lost (LeakSanitizer caught it in CI). A thread that may have used OpenSSL,
// directly or through Qt's TLS backend, calls this as the last thing it does.
void releaseThreadCryptoState();
