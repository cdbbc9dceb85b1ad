#include "identifyservice.h"

#include "identifymessage.h"
#include "libp2pstream.h"
#include "varint.h"

namespace {

class IdentifyHandler : public StreamHandler
{
public:
    explicit IdentifyHandler(const IdentifyService &service) : m_service(service) {}

    void opened(Libp2pStream &stream) override
    {
        const QByteArray message = m_service.message(stream.remoteAddress());
        stream.write(Varint::encode(quint64(message.size())) + message);
        stream.closeWrite();
    }
    // The peer only reads; whatever it sends is dropped.
    void received(Libp2pStream &, const QByteArray &) override {}
    void remoteClosed(Libp2pStream &) override {}

private:
    const IdentifyService &m_service;
};

} // namespace

IdentifyService::IdentifyService(const IdentityKey &identity, QByteArray agentVersion,
                                 const ProtocolRegistry &registry,
                                 std::function<QList<Multiaddr>()> listenAddresses)
    : m_publicKey(identity.publicKeyProtobuf()), m_agentVersion(std::move(agentVersion)),
      m_registry(registry), m_listenAddresses(std::move(listenAddresses))
{}

std::unique_ptr<StreamHandler> IdentifyService::handler() const
{
    return std::make_unique<IdentifyHandler>(*this);
}

QByteArray IdentifyService::message(const Multiaddr &observed) const
{
    IdentifyMessage message;
    message.protocolVersion = protocolVersion;
    message.agentVersion = m_agentVersion;
    message.publicKey = m_publicKey;
    for (const Multiaddr &address : m_listenAddresses())
        message.listenAddrs.append(address.toBytes());
    message.observedAddr = observed.toBytes();
    for (const QByteArray &protocol : m_registry.protocols())
        message.protocols.append(protocol);
    return message.encode();
}
