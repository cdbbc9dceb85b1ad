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

// Installs the message handler and level filter; the sink must outlive the logging.
void install(LogSink *sink, Level level);
void uninstall();

} // namespace Logging
