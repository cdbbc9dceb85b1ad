#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

// A libp2p circuit relay v2 that runs beside the server, as GET /relay advertises it to peers
// behind NAT (PROTOCOL.md, "GET /relay and circuit relay v2"): its peer ID, its multiaddresses
// and the client timing hints (0: the client's default).
struct RelayInfo
{
    QString peerId;
    QStringList addrs;
    int cleanupDelaySec = 0;
    int pollDeadlineSec = 0;
    int connectTimeoutSec = 0;
    int refreshIntervalSec = 0;
    int recoveryGraceSec = 0;

    // From a JSON file shaped like the /relay answer; nullopt and a one-line `error` otherwise.
    static std::optional<RelayInfo> fromFile(const QString &path, QString *error);

    // Why the info cannot be served (a peer ID or a multiaddress that does not parse, no
    // address), or an empty string.
    QString problem() const;

    // The /relay body: {"peer_id":…,"addrs":[…],"cleanup_delay_sec":…,…}, a newline after it.
    QByteArray json() const;
};

// The text forms of libp2p identifiers, checked as go-libp2p reads them.
namespace Libp2pText {

// A peer ID in base58btc: a multihash (identity, at most 128 bytes, or sha2-256).
bool isPeerId(QStringView text);

// Why `text` is not a multiaddress (e.g. /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…), or empty.
QString multiaddrProblem(QStringView text);

} // namespace Libp2pText
