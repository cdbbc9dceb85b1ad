#pragma once

struct ServerConfig;

// Runs the rendezvous daemon until SIGTERM or SIGINT (on Windows: Ctrl+C, or the service being
// stopped); returns the process exit code.
int runDaemon(const ServerConfig &config);
