#pragma once

#include "identitykey.h"
#include "multiaddr.h"
#include "protocolregistry.h"

#include <QByteArray>

#include <functional>
#include <memory>

// Answers /ipfs/id/1.0.0 with our identity, addresses and protocols; the observed address is
// the connection's remote address.
class IdentifyService
{
public:
    static constexpr char protocolVersion[] = "ipfs/0.1.0";

    IdentifyService(const IdentityKey &identity, QByteArray agentVersion,
                    const ProtocolRegistry &registry,
                    std::function<QList<Multiaddr>()> listenAddresses);

    std::unique_ptr<StreamHandler> handler() const;
    // The message for a peer seen at `observed`.
    QByteArray message(const Multiaddr &observed) const;

private:
    QByteArray m_publicKey;
    QByteArray m_agentVersion;
    const ProtocolRegistry &m_registry;
    std::function<QList<Multiaddr>()> m_listenAddresses;
};
