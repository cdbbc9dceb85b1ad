#pragma once

#include <QByteArray>
#include <QStringView>

#include <optional>

class LogSink;

// Routes Qt's logging to a LogSink: one grep-able line per event on stderr (with syslog level
// prefixes under systemd's journal), filtered by GOOP_LOG_LEVEL.
namespace Logging {

enum class Level
{
    Debug,
    Info,
    Warning,
    Error
};

std::optional<Level> parseLevel(QStringView name); // debug, info, warn (warning), error

// Qt's messages go to `sink`, filtered by `level`, while this lives. Declare it before anything
// whose threads may still log while it ends (the server's stream writers close their streams in
// its destructor), so that they are gone before the sink is.
class Installation
{
public:
    Installation(LogSink *sink, Level level);
    ~Installation();
    Installation(const Installation &) = delete;
    Installation &operator=(const Installation &) = delete;
};

} // namespace Logging
