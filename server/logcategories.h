#pragma once

#include <QLoggingCategory>

// One category per concern; GOOP_LOG_LEVEL filters them all, QT_LOGGING_RULES can pick.
Q_DECLARE_LOGGING_CATEGORY(lcApp)       // goop.server.app: start, stop, configuration
Q_DECLARE_LOGGING_CATEGORY(lcHttp)      // goop.server.http: requests and rejected connections
Q_DECLARE_LOGGING_CATEGORY(lcPresence)  // goop.server.presence: registrations, offline, expiry
Q_DECLARE_LOGGING_CATEGORY(lcSse)       // goop.server.sse: subscribers
Q_DECLARE_LOGGING_CATEGORY(lcWebSocket) // goop.server.websocket: peers on /ws
Q_DECLARE_LOGGING_CATEGORY(lcCluster)   // goop.server.cluster: the Redis backplane
Q_DECLARE_LOGGING_CATEGORY(lcAccess) // goop.server.access: per-client limits, the operators' door
