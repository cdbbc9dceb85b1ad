#pragma once

#include "libp2p/peerid.h"
#include "libp2p/protocolregistry.h"
#include "registrationstore.h"
#include "rendezvousmessage.h"
#include "sharedregistration.h"

#include <QMutex>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>

// A rendezvous point (/rendezvous/1.0.0): checks each request against the spec's rules (a
// peer registers only itself, with a valid signed peer record, in a namespace of bounded
// length, for an admissible TTL), answers it from the store, and counts what it did.
class RendezvousPoint
{
public:
    static constexpr char protocolId[] = "/rendezvous/1.0.0";

    struct Options
    {
        RegistrationStore::Limits limits;
        // The spec: 2 h when a REGISTER names none; at least 2 h and at most 72 h accepted.
        std::chrono::seconds defaultTtl{2 * 3600};
        std::chrono::seconds minTtl{2 * 3600};
        std::chrono::seconds maxTtl{72 * 3600};
        int maxNamespaceBytes = 255;
        // Real records carry a handful of addresses in a few hundred bytes; this bounds what
        // maxRegistrations can cost.
        int maxSignedPeerRecordBytes = 8192;
    };

    explicit RendezvousPoint(Options options, RegistrationStore::Clock clock = {});

    // The answer to `request` from `remote`; nothing for UNREGISTER (the spec has no answer)
    // and for message types we do not serve.
    std::optional<RendezvousMessage> handle(const RendezvousMessage &request, const PeerId &remote);

    // In a cluster: what this point accepts or removes, for the other instances. Set before the
    // host starts; called on the host's thread.
    struct Sharing
    {
        std::function<void(const SharedRegistration &registration)> registered;
        std::function<void(const QString &ns, const PeerId &peer)> unregistered;
    };
    void setSharing(Sharing sharing) { m_sharing = std::move(sharing); }

    // What other instances accepted or removed (any thread); a registration beyond this
    // instance's limits is just not held here.
    RegistrationStore::Outcome applyShared(const SharedRegistration &registration);
    void applyUnregistration(const QString &ns, const PeerId &peer);
    // The cluster's registrations replace those from other instances; returns this instance's
    // own that the cluster lacks or holds older, to be shared again.
    std::vector<SharedRegistration> resynchronise(const std::vector<SharedRegistration> &cluster);

    RegistrationStore &store() { return m_store; }
    const Options &options() const { return m_options; }
    ProtocolRegistry::Factory handlerFactory();

    struct Stats
    {
        quint64 registers = 0;
        quint64 unregisters = 0;
        quint64 discovers = 0;
        std::map<RendezvousMessage::Status, quint64> refusals;
    };
    Stats stats() const;

    static QByteArray statusName(RendezvousMessage::Status status);

private:
    RendezvousMessage::RegisterResult registerPeer(const RendezvousMessage::Registration &request,
                                                   const PeerId &remote);
    RendezvousMessage::QueryResult discover(const RendezvousMessage::Query &query);
    void countRefusal(RendezvousMessage::Status status);

    const Options m_options;
    RegistrationStore m_store;
    Sharing m_sharing;
    mutable QMutex m_statsMutex; // the host's thread counts, HTTP threads read
    Stats m_stats;
};
