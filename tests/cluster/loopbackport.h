#pragma once

#include <QtGlobal>

// A TCP port on 127.0.0.1 that was free a moment ago, for programs that cannot bind port 0
// and report it (Redis, Caddy) or that must come back on the same port after a restart.
quint16 freeLoopbackPort();
