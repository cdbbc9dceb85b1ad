#include "logcategories.h"

Q_LOGGING_CATEGORY(lcApp, "goop.server.app")
Q_LOGGING_CATEGORY(lcHttp, "goop.server.http")
Q_LOGGING_CATEGORY(lcPresence, "goop.server.presence")
Q_LOGGING_CATEGORY(lcSse, "goop.server.sse")
Q_LOGGING_CATEGORY(lcWebSocket, "goop.server.websocket")
Q_LOGGING_CATEGORY(lcCluster, "goop.server.cluster")
Q_LOGGING_CATEGORY(lcAccess, "goop.server.access")
