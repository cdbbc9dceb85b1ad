#pragma once

#include "identitykey.h"
#include "libp2pstream.h"
#include "multiaddr.h"
#include "peerid.h"
#include "protocolregistry.h"
#include "yamuxsession.h"

#include <QMutex>
#include <QObject>
#include <QThread>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

class Libp2pHostWorker;

// The daemon's libp2p node: TCP listeners on its own thread (its own event loop, so that
// presence traffic never waits for it), every connection upgraded through multistream-select,
// Noise and Yamux, inbound streams served from a protocol registry (identify and ping).
// Bounded in connections, handshake time and idle time.
class Libp2pHost : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        std::vector<Multiaddr> listen;   // /ip4|ip6/…/tcp/… (port 0: any free port)
        std::vector<Multiaddr> announce; // told to peers instead of the listen addresses
        QByteArray agentVersion;         // "goop-rendezvous/0.1.0"
        int maxConnections = 1024;
        std::chrono::milliseconds handshakeTimeout{10000}; // to reach Yamux
        std::chrono::milliseconds idleTimeout{300000};     // with no stream open
        YamuxSession::Options yamux;
        // Served beside identify and ping (the relay's hop, the rendezvous protocol); the
        // factories run on the host's thread.
        std::vector<std::pair<QByteArray, ProtocolRegistry::Factory>> protocols;
        // Told, on the host's thread, when a connection whose peer is known closes (a relay
        // reservation ends with it).
        std::function<void(const PeerId &peer, const Multiaddr &remote)> connectionClosed;
        // Whether a connection with no stream open is kept past idleTimeout (a peer holding a
        // relay reservation waits on it for circuits).
        std::function<bool(const PeerId &peer, const Multiaddr &remote)> keepIdleConnection;
    };

    Libp2pHost(const IdentityKey &identity, Options options, QObject *parent = nullptr);
    ~Libp2pHost() override;

    // Starts the thread and binds every listen address; on failure a one-line reason (and
    // nothing keeps running).
    std::optional<QString> start();
    void stop();

    PeerId peerId() const { return m_peerId; }
    // The bound addresses (ports resolved), valid after start().
    std::vector<Multiaddr> listenAddresses() const;
    // What peers are told: the announced addresses, else the listen addresses.
    std::vector<Multiaddr> advertisedAddresses() const;
    int connectionCount() const;

    // On the host's thread only (from a stream handler): opens a stream to `peer` on a
    // connection it already has, the one from `preferred` while it is open; nullptr when there
    // is none. The handler hears of the stream once a protocol is agreed.
    Libp2pStream *openStream(const PeerId &peer, const std::optional<Multiaddr> &preferred,
                             std::vector<QByteArray> protocols,
                             std::unique_ptr<StreamHandler> handler);

private:
    friend class Libp2pHostWorker;

    const IdentityKey m_identity;
    const PeerId m_peerId;
    const Options m_options;
    QThread m_thread;
    Libp2pHostWorker *m_worker = nullptr; // lives on m_thread
    mutable QMutex m_mutex;               // guards the two below
    std::vector<Multiaddr> m_boundAddresses;
    int m_connections = 0;
};
