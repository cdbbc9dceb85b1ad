#pragma once

#include "access/accesscontrol.h"
#include "history/eventhistory.h"
#include "libp2p/multiaddr.h"
#include "libp2p/relay/relaylimits.h"
#include "libp2p/rendezvous/rendezvouspoint.h"
#include "logging.h"
#include "relay/relayinfo.h"

#include <QString>
#include <QStringList>

#include <chrono>

// Everything the daemon can be told, with its defaults; filled from the command line, then the
// environment (a flag wins over its variable).
struct ServerConfig
{
    QString host = QStringLiteral("localhost"); // empty: every interface
    quint16 port = 8787;

    std::chrono::milliseconds peerTtl{30000};   // silence after which a peer is removed
    std::chrono::milliseconds heartbeat{25000}; // `: ping` period on every stream
    // StreamWriter::Options::batchWindow. 35 ms cuts the CPU per delivery in a mesh of 500 peers
    // to a third of what 0 costs, and keeps p99 under 50 ms at 1,000 (the mesh benchmark).
    std::chrono::milliseconds batchWindow{35};
    std::chrono::milliseconds requestTimeout{10000}; // to receive one whole request
    std::chrono::milliseconds idleTimeout{120000};   // a keep-alive connection with no request

    qint64 maxBodyBytes = 64 * 1024;
    qint64 maxHeaderBytes = 16 * 1024;
    int maxConnections = 0; // 0: as many as the open-file limit allows
    int threads = 2;        // HTTP threads, and as many event-stream writer threads
    qint64 maxSubscriberBacklogBytes = 1024 * 1024;  // unsent bytes before a stream is dropped
    qint64 maxTotalBacklogBytes = 256 * 1024 * 1024; // all streams' unsent bytes together
    EventHistory::Options history;                   // kept for subscribers that resume

    // /ws: the current server's timings (PROTOCOL.md), and what we do better.
    std::chrono::milliseconds webSocketPing{5000};     // a ping frame this often
    std::chrono::milliseconds webSocketTimeout{15000}; // closed after this long silent
    std::chrono::milliseconds webSocketGrace{8000};    // offline only after this long gone
    int maxWebSocketsPerAddress = 1000;                // 429 beyond; 0: no cap
    std::chrono::milliseconds punchCooldown{60000};    // between two hints for one pair of peers

    // Who the client is behind a proxy, the per-client limits and the operators' door.
    AccessControl::Options access;

    Logging::Level logLevel = Logging::Level::Info;

    QString redisUrl; // empty: no cluster, the state lives in this process alone

    std::optional<RelayInfo> relay; // a circuit relay beside the server, served on /relay

    // The libp2p host: off unless it has listen addresses.
    std::vector<Multiaddr> libp2pListen;
    std::vector<Multiaddr> libp2pAnnounce; // told to peers instead of the listen addresses
    QString libp2pKeyFile;                 // the identity, created on first start
    int libp2pMaxConnections = 1024;
    // The circuit relay v2 on the libp2p host: on whenever the host runs, unless disabled.
    bool libp2pRelay = true;
    RelayLimits relayLimits;
    // The rendezvous point (/rendezvous/1.0.0) on the libp2p host: on whenever the host runs.
    RendezvousPoint::Options rendezvous;

    QString listenAddressText() const;
};

// What the command line asks for: run with a configuration, or print something and exit.
struct CommandLine
{
    enum class Action
    {
        Run,
        PrintAndExit,
        FailAndExit
    };

    Action action = Action::Run;
    ServerConfig config;
    QString text; // help, version or the one-line error

    // `environment` holds GOOP_RENDEZVOUS_ADDR, GOOP_LOG_LEVEL, GOOP_REDIS_URL,
    // GOOP_TRUSTED_PROXIES and GOOP_ADMIN_PASSWORD_FILE when set.
    static CommandLine parse(const QStringList &arguments,
                             const QHash<QString, QString> &environment);
};

// "30s", "500ms", "2m", "1.5s" or a plain number of seconds.
std::optional<std::chrono::milliseconds> parseDuration(const QString &text);
