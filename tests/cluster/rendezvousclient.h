#pragma once

#include "libp2p/identitykey.h"
#include "libp2p/libp2pconnection.h"
#include "libp2p/protocolregistry.h"
#include "libp2p/rendezvous/rendezvousmessage.h"

#include <QTcpSocket>

#include <memory>
#include <optional>

// A libp2p peer of our own (its own key) speaking /rendezvous/1.0.0 to one instance over a real
// loopback connection, one request per stream as the spec's clients do.
class RendezvousClient
{
public:
    RendezvousClient();
    ~RendezvousClient();

    // `address` is the instance's "/ip4/…/tcp/…/p2p/…", as it logs it.
    bool connect(const QString &address);
    PeerId peerId() const;

    // The REGISTER's status, or nothing when no answer came.
    std::optional<RendezvousMessage::Status> registerIn(const QString &ns, qint64 ttlSeconds);
    void unregisterFrom(const QString &ns);
    // The peer IDs (text) of a DISCOVER's registrations, each record opened and checked;
    // nothing when no valid answer came.
    std::optional<QStringList> discover(const QString &ns);

private:
    std::optional<RendezvousMessage> exchange(const RendezvousMessage &request, bool answered);

    const IdentityKey m_key;
    QTcpSocket m_socket;
    ProtocolRegistry m_none;
    std::unique_ptr<Libp2pConnection> m_connection;
};
