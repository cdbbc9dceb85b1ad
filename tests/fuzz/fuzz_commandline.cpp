// libFuzzer target: the daemon's command line and environment (an operator's, or a unit
// file's), one argument per line, with the Redis URL parser and the durations on their own.
// Anything may be refused with one line; nothing may crash.
#include "app/serverconfig.h"
#include "cluster/redisurl.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString text = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));
    QStringList arguments{QStringLiteral("goop-rendezvous")};
    arguments += text.split(QLatin1Char('\n'));
    CommandLine::parse(arguments, {{QStringLiteral("GOOP_TRUSTED_PROXIES"), text},
                                   {QStringLiteral("GOOP_RENDEZVOUS_ADDR"), text}});
    QString error;
    RedisUrl::parse(text, &error);
    parseDuration(text);
    return 0;
}
