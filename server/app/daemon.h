#pragma once

struct ServerConfig;

// Runs the rendezvous daemon until SIGTERM or SIGINT; returns the process exit code.
int runDaemon(const ServerConfig &config);

// Raises the soft open-file limit to the hard limit (every stream is a descriptor) and
// returns the limit now in force.
long raiseOpenFileLimit();
