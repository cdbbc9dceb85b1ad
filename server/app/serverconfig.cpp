#include "serverconfig.h"

#include "goopversion.h"
#include "redisurl.h"

#include <QCommandLineParser>
#include <QHash>
#include <QRegularExpression>
#include <QThread>

#include <cmath>

namespace {

struct AddressParts
{
    QString host;
    quint16 port = 0;
};

// Go's HOST:PORT: the host may be empty (every interface) or a bracketed IPv6 address.
std::optional<AddressParts> parseAddress(const QString &text)
{
    const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
    if (colon < 0)
        return std::nullopt;
    QString host = text.left(colon);
    bool ok = false;
    const uint port = text.mid(colon + 1).toUInt(&ok);
    if (!ok || port > 65535 || text.mid(colon + 1).startsWith(QLatin1Char('+')))
        return std::nullopt;
    if (host.startsWith(QLatin1Char('[')) != host.endsWith(QLatin1Char(']')))
        return std::nullopt;
    if (host.startsWith(QLatin1Char('[')))
        host = host.mid(1, host.size() - 2);
    else if (host.contains(QLatin1Char(':')))
        return std::nullopt; // an IPv6 address needs brackets
    return AddressParts{host, static_cast<quint16>(port)};
}

} // namespace

QString ServerConfig::listenAddressText() const
{
    const QString shownHost =
        host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    return shownHost + QLatin1Char(':') + QString::number(port);
}

std::optional<std::chrono::milliseconds> parseDuration(const QString &text)
{
    static const QRegularExpression pattern(QStringLiteral("^(\\d+(?:\\.\\d+)?)(ms|s|m|h)?$"));
    const auto match = pattern.match(text.trimmed());
    if (!match.hasMatch())
        return std::nullopt;
    const double value = match.captured(1).toDouble();
    const QString unit = match.captured(2);
    const double factor = unit == QLatin1String("ms")  ? 1
                          : unit == QLatin1String("m") ? 60000
                          : unit == QLatin1String("h") ? 3600000
                                                       : 1000;
    return std::chrono::milliseconds(static_cast<qint64>(std::llround(value * factor)));
}

CommandLine CommandLine::parse(const QStringList &arguments,
                               const QHash<QString, QString> &environment)
{
    CommandLine result;
    ServerConfig &config = result.config;
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Rendezvous server for Goop2 peer-to-peer networks: peers publish presence "
                       "to /publish and\n"
                       "follow /events (Server-Sent Events); /peers.json lists who is online; / is "
                       "a live dashboard."));
    // Go's flag package style (-addr) as in the deployment guide; --addr works too.
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help and exit."));
    const QCommandLineOption version(QStringLiteral("version"),
                                     QStringLiteral("Show the version and exit."));
    const QCommandLineOption addr(
        QStringLiteral("addr"),
        QStringLiteral("Listen address (env GOOP_RENDEZVOUS_ADDR). Default localhost:8787; "
                       ":8787 or 0.0.0.0:8787 for every interface."),
        QStringLiteral("HOST:PORT"));
    const QCommandLineOption rendezvous(
        QStringLiteral("rendezvous"),
        QStringLiteral("Accepted and ignored (the original server was one binary with modes)."));
    const QCommandLineOption logLevel(
        QStringLiteral("log-level"),
        QStringLiteral("debug, info, warn or error (env GOOP_LOG_LEVEL). Default info."),
        QStringLiteral("LEVEL"));
    const QCommandLineOption peerTtl(
        QStringLiteral("peer-ttl"),
        QStringLiteral(
            "Remove a peer after this much silence and announce it offline. Default 30s."),
        QStringLiteral("DURATION"));
    const QCommandLineOption heartbeat(
        QStringLiteral("heartbeat"),
        QStringLiteral("Send ': ping' on every event stream this often. Default 25s."),
        QStringLiteral("DURATION"));
    const QCommandLineOption batchWindow(
        QStringLiteral("batch-window"),
        QStringLiteral("Events that come less than this after the previous batch wait for it to "
                       "pass and go to each subscriber in one write: less CPU per event under "
                       "load, each at most this much later. 0 sends every batch at once. "
                       "Default 35ms."),
        QStringLiteral("DURATION"));
    const QCommandLineOption requestTimeout(
        QStringLiteral("request-timeout"),
        QStringLiteral(
            "Close a connection that takes longer to send one request (408). Default 10s."),
        QStringLiteral("DURATION"));
    const QCommandLineOption idleTimeout(
        QStringLiteral("idle-timeout"),
        QStringLiteral("Close a keep-alive connection idle this long. Default 2m."),
        QStringLiteral("DURATION"));
    const QCommandLineOption maxConnections(
        QStringLiteral("max-connections"),
        QStringLiteral(
            "Answer 503 beyond this many connections. Default: what the open-file limit allows."),
        QStringLiteral("N"));
    const QCommandLineOption backlog(
        QStringLiteral("max-subscriber-backlog"),
        QStringLiteral("Disconnect a subscriber with more unsent bytes than this (it reconnects). "
                       "Default 1048576."),
        QStringLiteral("BYTES"));
    const QCommandLineOption backlogTotal(
        QStringLiteral("max-backlog-total"),
        QStringLiteral("Unsent bytes all subscribers together may make the server hold; beyond "
                       "it a subscriber that falls further behind is disconnected. Default "
                       "268435456 (256 MiB)."),
        QStringLiteral("BYTES"));
    const QCommandLineOption historyEvents(
        QStringLiteral("history-events"),
        QStringLiteral("Keep this many recent events for subscribers that reconnect with "
                       "Last-Event-ID. Default 50000."),
        QStringLiteral("N"));
    const QCommandLineOption historyAge(
        QStringLiteral("history-age"),
        QStringLiteral("Keep recent events this long at most. Default 5m."),
        QStringLiteral("DURATION"));
    const QCommandLineOption historyBytes(
        QStringLiteral("history-bytes"),
        QStringLiteral("Keep recent events up to this many bytes of frames (held "
                       "compressed, in about a quarter of that). Default 67108864 (64 MiB)."),
        QStringLiteral("BYTES"));
    const QCommandLineOption threads(
        QStringLiteral("threads"),
        QStringLiteral(
            "HTTP threads (one off Linux) and as many event-stream writers. Default: the number of "
            "CPU cores."),
        QStringLiteral("N"));
    const QCommandLineOption wsPing(QStringLiteral("ws-ping"),
                                    QStringLiteral("Ping every WebSocket this often. Default 5s."),
                                    QStringLiteral("DURATION"));
    const QCommandLineOption wsTimeout(
        QStringLiteral("ws-timeout"),
        QStringLiteral("Close a WebSocket whose client sent nothing (not even a pong) for this "
                       "long. Default 15s."),
        QStringLiteral("DURATION"));
    const QCommandLineOption wsGrace(
        QStringLiteral("ws-grace"),
        QStringLiteral("When a peer's WebSocket ends, announce it offline only if it has neither "
                       "reconnected nor published within this time. Default 8s."),
        QStringLiteral("DURATION"));
    const QCommandLineOption wsPerAddress(
        QStringLiteral("max-ws-per-address"),
        QStringLiteral("Answer 429 to more WebSockets than this from one client address "
                       "(0: no cap). Default 1000."),
        QStringLiteral("N"));
    const QCommandLineOption streamsPerAddress(
        QStringLiteral("max-streams-per-address"),
        QStringLiteral("Answer 429 to more /events and /ws connections, together, than this from "
                       "one client address (0: no cap). Default 1000."),
        QStringLiteral("N"));
    const QCommandLineOption trustedProxy(
        QStringLiteral("trusted-proxy"),
        QStringLiteral("A proxy in front of the server (an address or a subnet, e.g. 127.0.0.1 "
                       "or 10.0.0.0/8; repeatable; env GOOP_TRUSTED_PROXIES, comma-separated). "
                       "Only for its connections is the client taken from X-Forwarded-For, "
                       "Forwarded or X-Real-IP. Default: none."),
        QStringLiteral("CIDR"));
    const QCommandLineOption peerPublishRate(
        QStringLiteral("peer-publish-rate"),
        QStringLiteral("Publishes per second one peer ID may keep up (0: no limit); beyond it "
                       "429 with Retry-After. Default 2 (a heartbeat is one per 5 s)."),
        QStringLiteral("RATE"));
    const QCommandLineOption peerPublishBurst(
        QStringLiteral("peer-publish-burst"),
        QStringLiteral("Publishes one peer ID may send at once. Default 20."), QStringLiteral("N"));
    const QCommandLineOption addressPublishRate(
        QStringLiteral("address-publish-rate"),
        QStringLiteral("Publishes per second from one client address, all its peers together "
                       "(0: no limit). Default 200 (1,000 peers heartbeating behind one NAT)."),
        QStringLiteral("RATE"));
    const QCommandLineOption addressPublishBurst(
        QStringLiteral("address-publish-burst"),
        QStringLiteral("Publishes one client address may send at once. Default 2000."),
        QStringLiteral("N"));
    const QCommandLineOption connectionRate(
        QStringLiteral("connection-rate"),
        QStringLiteral("New connections per second from one client address (through a trusted "
                       "proxy: new streams) (0: no limit). Default 100."),
        QStringLiteral("RATE"));
    const QCommandLineOption connectionBurst(
        QStringLiteral("connection-burst"),
        QStringLiteral("New connections one client address may open at once. Default 1000."),
        QStringLiteral("N"));
    const QCommandLineOption adminPasswordFile(
        QStringLiteral("admin-password-file"),
        QStringLiteral("Put /logs.json and /metrics behind HTTP Basic auth, user admin, with the "
                       "password in FILE (env GOOP_ADMIN_PASSWORD_FILE). Default: none."),
        QStringLiteral("FILE"));
    const QCommandLineOption privatePages(
        QStringLiteral("private"),
        QStringLiteral("With --admin-password-file: /peers.json and the dashboard too."));
    const QCommandLineOption punchCooldown(
        QStringLiteral("punch-cooldown"),
        QStringLiteral("Send two peers punch hints about each other at most this often. "
                       "Default 60s."),
        QStringLiteral("DURATION"));
    const QCommandLineOption relayPeerId(
        QStringLiteral("relay-peer-id"),
        QStringLiteral("The peer ID of a libp2p circuit relay v2 running beside the server, "
                       "advertised on /relay (with --relay-addr)."),
        QStringLiteral("ID"));
    const QCommandLineOption relayAddr(
        QStringLiteral("relay-addr"),
        QStringLiteral("A multiaddress of that relay, e.g. /ip4/203.0.113.7/tcp/4001 "
                       "(repeatable)."),
        QStringLiteral("MULTIADDR"));
    const QCommandLineOption relayFile(
        QStringLiteral("relay-file"),
        QStringLiteral("The relay as a JSON file shaped like the /relay answer (peer_id, addrs, "
                       "optional timing hints), instead of the two flags above."),
        QStringLiteral("FILE"));
    const QCommandLineOption libp2pListen(
        QStringLiteral("libp2p-listen"),
        QStringLiteral("Run a libp2p host (identify, ping) listening on this multiaddress, e.g. "
                       "/ip4/0.0.0.0/tcp/4001 (repeatable). Default: no host."),
        QStringLiteral("MULTIADDR"));
    const QCommandLineOption libp2pKey(
        QStringLiteral("libp2p-key"),
        QStringLiteral("The libp2p host's Ed25519 identity key, created (mode 0600) on first "
                       "start; its peer ID survives restarts. Required with --libp2p-listen "
                       "(env GOOP_LIBP2P_KEY; the systemd unit sets it)."),
        QStringLiteral("FILE"));
    const QCommandLineOption libp2pAnnounce(
        QStringLiteral("libp2p-announce"),
        QStringLiteral("A multiaddress peers should dial the libp2p host at, e.g. "
                       "/ip4/203.0.113.7/tcp/4001 (repeatable). Default: the listen addresses."),
        QStringLiteral("MULTIADDR"));
    const QCommandLineOption libp2pMaxConnections(
        QStringLiteral("libp2p-max-connections"),
        QStringLiteral("Refuse libp2p connections beyond this many. Default 1024."),
        QStringLiteral("N"));
    const QCommandLineOption relayDisable(
        QStringLiteral("relay-disable"),
        QStringLiteral("Do not run the circuit relay v2 (hop and stop) on the libp2p host; by "
                       "default it runs whenever the host does, and /relay advertises it."));
    const QCommandLineOption relayMaxReservations(
        QStringLiteral("relay-max-reservations"),
        QStringLiteral("Relay reservations held at once. Default 128."), QStringLiteral("N"));
    const QCommandLineOption relayMaxReservationsPerPeer(
        QStringLiteral("relay-max-reservations-per-peer"),
        QStringLiteral("Relay reservations one peer may hold (one per connection). Default 4."),
        QStringLiteral("N"));
    const QCommandLineOption relayMaxReservationsPerIp(
        QStringLiteral("relay-max-reservations-per-ip"),
        QStringLiteral("Relay reservations from one IP address. Default 16."), QStringLiteral("N"));
    const QCommandLineOption relayReservationTtl(
        QStringLiteral("relay-reservation-ttl"),
        QStringLiteral("How long a relay reservation lasts unless refreshed. Default 1h."),
        QStringLiteral("DURATION"));
    const QCommandLineOption relayMaxCircuits(
        QStringLiteral("relay-max-circuits"),
        QStringLiteral("Relayed connections open at once. Default 1024."), QStringLiteral("N"));
    const QCommandLineOption relayMaxCircuitsPerPeer(
        QStringLiteral("relay-max-circuits-per-peer"),
        QStringLiteral("Relayed connections from or to one peer. Default 16."),
        QStringLiteral("N"));
    const QCommandLineOption relayCircuitDuration(
        QStringLiteral("relay-circuit-duration"),
        QStringLiteral("A relayed connection is reset after this long; 0: no limit. Default 30m."),
        QStringLiteral("DURATION"));
    const QCommandLineOption relayCircuitBytes(
        QStringLiteral("relay-circuit-bytes"),
        QStringLiteral("A relayed connection is reset once one direction carries more bytes than "
                       "this; 0: no limit. Default 16777216 (16 MiB)."),
        QStringLiteral("BYTES"));
    const QCommandLineOption rendezvousMaxRegistrations(
        QStringLiteral("rendezvous-max-registrations"),
        QStringLiteral("libp2p rendezvous registrations held at once. Default 10000."),
        QStringLiteral("N"));
    const QCommandLineOption rendezvousMaxPerPeer(
        QStringLiteral("rendezvous-max-per-peer"),
        QStringLiteral("libp2p rendezvous registrations (namespaces) of one peer. Default 1000."),
        QStringLiteral("N"));
    const QCommandLineOption rendezvousMaxPerNamespace(
        QStringLiteral("rendezvous-max-per-namespace"),
        QStringLiteral("libp2p rendezvous registrations in one namespace. Default 5000."),
        QStringLiteral("N"));
    const QCommandLineOption rendezvousMinTtl(
        QStringLiteral("rendezvous-min-ttl"),
        QStringLiteral("The shortest TTL a rendezvous REGISTER may ask for, at most 2h (the "
                       "spec's default TTL). Default 2h."),
        QStringLiteral("DURATION"));
    const QCommandLineOption rendezvousMaxTtl(
        QStringLiteral("rendezvous-max-ttl"),
        QStringLiteral("The longest TTL a rendezvous REGISTER may ask for, at least 72h as the "
                       "spec requires. Default 72h."),
        QStringLiteral("DURATION"));
    const QCommandLineOption redis(
        QStringLiteral("redis"),
        QStringLiteral("Share peers and events with the other instances using this Redis, e.g. "
                       "redis://127.0.0.1:6379/0 (env GOOP_REDIS_URL). Default: none."),
        QStringLiteral("URL"));
    parser.addOptions({help,
                       version,
                       addr,
                       rendezvous,
                       logLevel,
                       peerTtl,
                       heartbeat,
                       batchWindow,
                       requestTimeout,
                       idleTimeout,
                       maxConnections,
                       backlog,
                       backlogTotal,
                       historyEvents,
                       historyAge,
                       historyBytes,
                       threads,
                       wsPing,
                       wsTimeout,
                       wsGrace,
                       wsPerAddress,
                       streamsPerAddress,
                       trustedProxy,
                       peerPublishRate,
                       peerPublishBurst,
                       addressPublishRate,
                       addressPublishBurst,
                       connectionRate,
                       connectionBurst,
                       adminPasswordFile,
                       privatePages,
                       punchCooldown,
                       relayPeerId,
                       relayAddr,
                       relayFile,
                       libp2pListen,
                       libp2pKey,
                       libp2pAnnounce,
                       libp2pMaxConnections,
                       relayDisable,
                       relayMaxReservations,
                       relayMaxReservationsPerPeer,
                       relayMaxReservationsPerIp,
                       relayReservationTtl,
                       relayMaxCircuits,
                       relayMaxCircuitsPerPeer,
                       relayCircuitDuration,
                       relayCircuitBytes,
                       rendezvousMaxRegistrations,
                       rendezvousMaxPerPeer,
                       rendezvousMaxPerNamespace,
                       rendezvousMinTtl,
                       rendezvousMaxTtl,
                       redis});

    const auto fail = [&](const QString &message) {
        result.action = Action::FailAndExit;
        result.text = QStringLiteral("goop-rendezvous: ") + message +
                      QStringLiteral(" (see goop-rendezvous -h)");
        return result;
    };
    if (!parser.parse(arguments))
        return fail(parser.errorText());
    if (!parser.positionalArguments().isEmpty())
        return fail(
            QStringLiteral("unexpected argument \"%1\"").arg(parser.positionalArguments().first()));
    if (parser.isSet(help)) {
        result.action = Action::PrintAndExit;
        result.text = parser.helpText();
        return result;
    }
    if (parser.isSet(version)) {
        result.action = Action::PrintAndExit;
        result.text = QStringLiteral("goop-rendezvous " GOOP_VERSION "\n");
        return result;
    }

    const auto valueOf = [&](const QCommandLineOption &option, const QString &variable) {
        if (parser.isSet(option))
            return std::optional<QString>(parser.value(option));
        if (!variable.isEmpty() && environment.contains(variable))
            return std::optional<QString>(environment.value(variable));
        return std::optional<QString>();
    };
    if (const auto text = valueOf(addr, QStringLiteral("GOOP_RENDEZVOUS_ADDR"));
        text && !text->isEmpty()) {
        const auto parts = parseAddress(*text);
        if (!parts)
            return fail(
                QStringLiteral("invalid listen address \"%1\": expected HOST:PORT").arg(*text));
        config.host = parts->host;
        config.port = parts->port;
    }
    if (const auto text = valueOf(logLevel, QStringLiteral("GOOP_LOG_LEVEL"));
        text && !text->isEmpty()) {
        const auto level = Logging::parseLevel(*text);
        if (!level)
            return fail(
                QStringLiteral("invalid log level \"%1\": expected debug, info, warn or error")
                    .arg(*text));
        config.logLevel = *level;
    }
    const std::pair<const QCommandLineOption *, std::chrono::milliseconds *> durations[] = {
        {&peerTtl, &config.peerTtl},
        {&heartbeat, &config.heartbeat},
        {&requestTimeout, &config.requestTimeout},
        {&idleTimeout, &config.idleTimeout},
        {&wsPing, &config.webSocketPing},
        {&wsTimeout, &config.webSocketTimeout},
        {&wsGrace, &config.webSocketGrace},
        {&punchCooldown, &config.punchCooldown},
        {&historyAge, &config.history.maxAge},
    };
    for (const auto &[option, target] : durations) {
        if (!parser.isSet(*option))
            continue;
        const auto duration = parseDuration(parser.value(*option));
        if (!duration || duration->count() <= 0)
            return fail(
                QStringLiteral("invalid --%1 \"%2\": expected a duration such as 30s or 500ms")
                    .arg(option->names().first(), parser.value(*option)));
        *target = *duration;
    }
    if (parser.isSet(batchWindow)) {
        const QString text = parser.value(batchWindow);
        const auto duration =
            text == QLatin1String("0") ? std::chrono::milliseconds(0) : parseDuration(text);
        if (!duration || duration->count() < 0 || duration->count() > 1000)
            return fail(QStringLiteral("invalid --batch-window \"%1\": expected 0 or a duration "
                                       "up to 1s, such as 20ms")
                            .arg(text));
        config.batchWindow = *duration;
    }
    const auto positiveNumber = [&](const QCommandLineOption &option, auto &target) {
        if (!parser.isSet(option))
            return true;
        bool ok = false;
        const qint64 value = parser.value(option).toLongLong(&ok);
        if (!ok || value <= 0 ||
            value > std::numeric_limits<std::remove_reference_t<decltype(target)>>::max())
            return false;
        target = static_cast<std::remove_reference_t<decltype(target)>>(value);
        return true;
    };
    if (!positiveNumber(maxConnections, config.maxConnections))
        return fail(
            QStringLiteral("invalid --max-connections \"%1\"").arg(parser.value(maxConnections)));
    config.threads = qBound(1, QThread::idealThreadCount(), 64);
    if (!positiveNumber(threads, config.threads) || config.threads > 64)
        return fail(QStringLiteral("invalid --threads \"%1\": expected 1 to 64")
                        .arg(parser.value(threads)));
    if (!positiveNumber(backlog, config.maxSubscriberBacklogBytes))
        return fail(
            QStringLiteral("invalid --max-subscriber-backlog \"%1\"").arg(parser.value(backlog)));
    if (!positiveNumber(backlogTotal, config.maxTotalBacklogBytes))
        return fail(
            QStringLiteral("invalid --max-backlog-total \"%1\"").arg(parser.value(backlogTotal)));
    if (!positiveNumber(historyEvents, config.history.maxEvents))
        return fail(
            QStringLiteral("invalid --history-events \"%1\"").arg(parser.value(historyEvents)));
    if (!positiveNumber(historyBytes, config.history.maxBytes))
        return fail(
            QStringLiteral("invalid --history-bytes \"%1\"").arg(parser.value(historyBytes)));
    const std::pair<const QCommandLineOption *, int *> caps[] = {
        {&wsPerAddress, &config.maxWebSocketsPerAddress},
        {&streamsPerAddress, &config.access.maxStreamsPerAddress},
    };
    for (const auto &[option, target] : caps) {
        if (!parser.isSet(*option))
            continue;
        bool ok = false;
        *target = parser.value(*option).toInt(&ok);
        if (!ok || *target < 0)
            return fail(QStringLiteral("invalid --%1 \"%2\": expected a count, 0 for no cap")
                            .arg(option->names().first(), parser.value(*option)));
    }
    const std::pair<const QCommandLineOption *, double *> rates[] = {
        {&peerPublishRate, &config.access.peerPublishes.perSecond},
        {&peerPublishBurst, &config.access.peerPublishes.burst},
        {&addressPublishRate, &config.access.addressPublishes.perSecond},
        {&addressPublishBurst, &config.access.addressPublishes.burst},
        {&connectionRate, &config.access.connections.perSecond},
        {&connectionBurst, &config.access.connections.burst},
    };
    for (const auto &[option, target] : rates) {
        if (!parser.isSet(*option))
            continue;
        bool ok = false;
        const double value = parser.value(*option).toDouble(&ok);
        const bool isBurst = option->names().first().endsWith(QLatin1String("burst"));
        if (!ok || !std::isfinite(value) || value < (isBurst ? 1 : 0) || value > 1e9)
            return fail(QStringLiteral("invalid --%1 \"%2\": expected %3")
                            .arg(option->names().first(), parser.value(*option),
                                 isBurst ? QStringLiteral("a count of at least 1")
                                         : QStringLiteral("a rate per second, 0 for no limit")));
        *target = value;
    }
    QStringList proxies = parser.values(trustedProxy);
    if (proxies.isEmpty() && environment.contains(QStringLiteral("GOOP_TRUSTED_PROXIES")))
        proxies = {environment.value(QStringLiteral("GOOP_TRUSTED_PROXIES"))};
    QString proxyError;
    const auto trusted = TrustedProxies::parse(proxies, &proxyError);
    if (!trusted)
        return fail(proxyError);
    config.access.proxies = *trusted;
    if (const auto path = valueOf(adminPasswordFile, QStringLiteral("GOOP_ADMIN_PASSWORD_FILE"));
        path && !path->isEmpty()) {
        QString error;
        config.access.door = OperatorDoor::fromFile(*path, &error);
        if (!config.access.door)
            return fail(error);
    }
    config.access.privatePages = parser.isSet(privatePages);
    if (config.access.privatePages && !config.access.door)
        return fail(QStringLiteral("--private needs --admin-password-file: without a password "
                                   "nobody could open the private pages"));
    if (parser.isSet(relayFile) && (parser.isSet(relayPeerId) || parser.isSet(relayAddr)))
        return fail(QStringLiteral("give the relay with --relay-file or with --relay-peer-id and "
                                   "--relay-addr, not both"));
    if (parser.isSet(relayFile)) {
        QString error;
        config.relay = RelayInfo::fromFile(parser.value(relayFile), &error);
        if (!config.relay)
            return fail(error);
    } else if (parser.isSet(relayPeerId) || parser.isSet(relayAddr)) {
        config.relay = RelayInfo{parser.value(relayPeerId), parser.values(relayAddr)};
    }
    if (config.relay && !config.relay->problem().isEmpty())
        return fail(config.relay->problem());
    const std::pair<const QCommandLineOption *, std::vector<Multiaddr> *> multiaddrs[] = {
        {&libp2pListen, &config.libp2pListen},
        {&libp2pAnnounce, &config.libp2pAnnounce},
    };
    for (const auto &[option, target] : multiaddrs) {
        for (const QString &text : parser.values(*option)) {
            QString error;
            const auto address = Multiaddr::fromText(text, &error);
            if (!address)
                return fail(QStringLiteral("--%1: %2").arg(option->names().first(), error));
            if (option == &libp2pListen && !address->tcpEndpoint())
                return fail(QStringLiteral("--libp2p-listen \"%1\": expected /ip4/HOST/tcp/PORT "
                                           "or /ip6/HOST/tcp/PORT")
                                .arg(text));
            target->push_back(*address);
        }
    }
    // The systemd unit names a file in its state directory here, so that --libp2p-listen is
    // all an operator adds.
    config.libp2pKeyFile =
        valueOf(libp2pKey, QStringLiteral("GOOP_LIBP2P_KEY")).value_or(QString());
    if (!config.libp2pListen.empty() && config.libp2pKeyFile.isEmpty())
        return fail(QStringLiteral("--libp2p-listen needs --libp2p-key FILE, where the host's "
                                   "identity is kept"));
    if (config.libp2pListen.empty() && (parser.isSet(libp2pKey) || parser.isSet(libp2pAnnounce)))
        return fail(QStringLiteral("--libp2p-key and --libp2p-announce need --libp2p-listen"));
    if (!positiveNumber(libp2pMaxConnections, config.libp2pMaxConnections))
        return fail(QStringLiteral("invalid --libp2p-max-connections \"%1\"")
                        .arg(parser.value(libp2pMaxConnections)));
    config.libp2pRelay = !parser.isSet(relayDisable);
    RelayLimits &relay = config.relayLimits;
    const std::pair<const QCommandLineOption *, int *> relayCounts[] = {
        {&relayMaxReservations, &relay.maxReservations},
        {&relayMaxReservationsPerPeer, &relay.maxReservationsPerPeer},
        {&relayMaxReservationsPerIp, &relay.maxReservationsPerIp},
        {&relayMaxCircuits, &relay.maxCircuits},
        {&relayMaxCircuitsPerPeer, &relay.maxCircuitsPerPeer},
    };
    for (const auto &[option, target] : relayCounts) {
        if (!positiveNumber(*option, *target))
            return fail(QStringLiteral("invalid --%1 \"%2\": expected a count of at least 1")
                            .arg(option->names().first(), parser.value(*option)));
    }
    // Whole seconds, as the Limit and Reservation messages carry them.
    const auto relaySeconds = [&](const QCommandLineOption &option, bool zeroAllowed,
                                  std::chrono::seconds &target) {
        if (!parser.isSet(option))
            return true;
        const QString given = parser.value(option);
        const auto duration =
            given == QLatin1String("0") ? std::chrono::milliseconds(0) : parseDuration(given);
        if (!duration || duration->count() < (zeroAllowed ? 0 : 1000) ||
            duration->count() % 1000 != 0 || duration->count() / 1000 > 0xffffffffLL)
            return false;
        target = std::chrono::duration_cast<std::chrono::seconds>(*duration);
        return true;
    };
    if (!relaySeconds(relayReservationTtl, false, relay.reservationTtl))
        return fail(QStringLiteral("invalid --relay-reservation-ttl \"%1\": expected whole "
                                   "seconds, such as 1h or 90s")
                        .arg(parser.value(relayReservationTtl)));
    if (!relaySeconds(relayCircuitDuration, true, relay.circuitDuration))
        return fail(QStringLiteral("invalid --relay-circuit-duration \"%1\": expected 0 or whole "
                                   "seconds, such as 30m")
                        .arg(parser.value(relayCircuitDuration)));
    if (parser.isSet(relayCircuitBytes)) {
        bool ok = false;
        relay.circuitBytes = parser.value(relayCircuitBytes).toULongLong(&ok);
        if (!ok)
            return fail(QStringLiteral("invalid --relay-circuit-bytes \"%1\": expected a number "
                                       "of bytes, 0 for no limit")
                            .arg(parser.value(relayCircuitBytes)));
    }
    RegistrationStore::Limits &registrations = config.rendezvous.limits;
    const std::pair<const QCommandLineOption *, int *> rendezvousCounts[] = {
        {&rendezvousMaxRegistrations, &registrations.maxRegistrations},
        {&rendezvousMaxPerPeer, &registrations.maxPerPeer},
        {&rendezvousMaxPerNamespace, &registrations.maxPerNamespace},
    };
    for (const auto &[option, target] : rendezvousCounts) {
        if (!positiveNumber(*option, *target))
            return fail(QStringLiteral("invalid --%1 \"%2\": expected a count of at least 1")
                            .arg(option->names().first(), parser.value(*option)));
    }
    // The spec: REGISTER without a TTL means 2 h, and a point's upper bound is at least 72 h.
    if (!relaySeconds(rendezvousMinTtl, false, config.rendezvous.minTtl) ||
        config.rendezvous.minTtl > config.rendezvous.defaultTtl)
        return fail(QStringLiteral("invalid --rendezvous-min-ttl \"%1\": expected whole seconds "
                                   "up to 2h, such as 2m")
                        .arg(parser.value(rendezvousMinTtl)));
    if (!relaySeconds(rendezvousMaxTtl, false, config.rendezvous.maxTtl) ||
        config.rendezvous.maxTtl < std::chrono::hours(72))
        return fail(QStringLiteral("invalid --rendezvous-max-ttl \"%1\": expected whole seconds "
                                   "of at least 72h")
                        .arg(parser.value(rendezvousMaxTtl)));
    const auto redisText = valueOf(redis, QStringLiteral("GOOP_REDIS_URL"));
    if (redisText && !redisText->isEmpty()) {
#ifdef GOOP_HAVE_HIREDIS
        QString error;
        if (!RedisUrl::parse(*redisText, &error))
            return fail(error);
        config.redisUrl = *redisText;
#else
        return fail(QStringLiteral("--redis is not supported: this build has no hiredis"));
#endif
    }
    return result;
}
