#pragma once

#include <QList>
#include <QProcess>
#include <QTemporaryDir>

// Debian's Caddy on a loopback port in front of several instances, configured like the
// deployment guide's example with health checks (docs/Caddyfile.example, block 2), but with
// round-robin balancing and a short health interval so that a test sees it act.
class CaddyProcess
{
public:
    explicit CaddyProcess(const QList<quint16> &upstreams);
    ~CaddyProcess(); // stops Caddy if it still runs

    // Starts Caddy and waits until /healthz answers through it.
    bool start(int timeoutMs = 15000);
    quint16 port() const { return m_port; }
    QByteArray caddyfile() const { return m_caddyfile; }
    QByteArray log(); // what Caddy wrote so far (it logs to stderr)

    static QString binary() { return QStringLiteral(CADDY_BINARY); }
    static constexpr int healthIntervalMs = 1000;

private:
    QTemporaryDir m_dir;
    QProcess m_process;
    QByteArray m_caddyfile;
    QByteArray m_log;
    quint16 m_port = 0;
};
