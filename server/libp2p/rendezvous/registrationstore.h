#pragma once

#include "libp2p/multiaddr.h"
#include "libp2p/peerid.h"

#include <QByteArray>
#include <QMutex>
#include <QString>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

// The rendezvous point's registrations: one per namespace and peer, each until its TTL ends,
// bounded in total, per peer and per namespace. Every registration gets the next number of a
// counter, so a DISCOVER cookie is just "the last number you saw". The host's thread writes (in
// a cluster the main thread too, with what other instances took) and HTTP threads read: every
// call takes the mutex and drops what has expired.
class RegistrationStore
{
public:
    struct Limits
    {
        int maxRegistrations = 10000;
        int maxPerPeer = 1000; // the spec's recommendation
        int maxPerNamespace = 5000;
        int maxDiscoverLimit = 1000; // the spec's recommendation
        // A page stops early rather than grow past this (records and namespaces), so that an
        // answer stays well within what clients read in one message (js-libp2p: 4 MiB).
        qsizetype maxPageBytes = 1024 * 1024;
    };
    // Milliseconds on a monotonic clock; tests bring their own.
    using Clock = std::function<qint64()>;

    struct Registration
    {
        QString ns;
        PeerId peer;
        std::vector<Multiaddr> addresses;
        QByteArray signedPeerRecord;
        quint64 recordSeq = 0;
        qint64 expiresAt = 0; // Clock time
        quint64 order = 0;    // the counter's number when added or refreshed
        // Came from another instance of a cluster rather than from a REGISTER here.
        bool fromOtherInstance = false;
    };
    struct Page
    {
        std::vector<Registration> registrations;
        QByteArray cookie;
    };
    enum class Outcome
    {
        Added,
        Refreshed,
        StaleRecord,   // an older peer record than the one we hold
        PeerFull,      // maxPerPeer
        NamespaceFull, // maxPerNamespace
        StoreFull,     // maxRegistrations
        Unchanged      // addShared(): the same record and expiry as held, nothing to do
    };

    explicit RegistrationStore(Limits limits, Clock clock = {});

    const Limits &limits() const { return m_limits; }
    qint64 now() const { return m_clock(); }

    // Adds or refreshes the registration of `registration.peer` in `registration.ns`.
    Outcome add(Registration registration, std::chrono::seconds ttl);
    // Adds or refreshes a registration another instance took, until its `expiresAt` (Clock
    // time). What is already held with the same record and expiry is left alone, so that the
    // order number (and so every client's cookie) does not move for an echo of the same thing.
    Outcome addShared(Registration registration);
    // Replaces every registration from another instance with `shared` (a cluster's snapshot,
    // expiries in Clock time); those of this instance stay unless `shared` has a newer record.
    struct Resynchronisation
    {
        // This instance's own that `shared` lacks or holds in an older version: for the cluster.
        std::vector<Registration> ownToResend;
        int refused = 0; // of `shared`, not held for the limits
    };
    Resynchronisation replaceShared(std::vector<Registration> shared);
    // An empty namespace removes the peer from every namespace. Returns the namespaces it left.
    std::vector<QString> remove(const QString &ns, const PeerId &peer);
    // Registrations after the cookie's position, oldest first, at most `limit` (clamped to
    // maxDiscoverLimit; 0 means that maximum); an empty namespace means all of them. Nothing
    // when the cookie is not one of ours or is for another namespace.
    std::optional<Page> discover(const QString &ns, int limit, const QByteArray &cookie);

    std::vector<Registration> snapshot();
    struct Counts
    {
        int registrations = 0;
        int namespaces = 0;
    };
    Counts counts();

private:
    Outcome insert(Registration registration, bool keepSame); // with m_mutex held
    void dropExpired();
    void erase(quint64 order);

    const Limits m_limits;
    const Clock m_clock;
    // Cookies of an earlier run of the daemon start over rather than skip what is new.
    const quint64 m_epoch;

    QMutex m_mutex; // guards everything below
    quint64 m_lastOrder = 0;
    std::map<quint64, Registration> m_byOrder;
    std::map<std::pair<QString, QByteArray>, quint64> m_byNamespaceAndPeer;
    std::map<QString, std::set<quint64>> m_namespaces;
    std::map<QByteArray, int> m_perPeer;
    std::multimap<qint64, quint64> m_expiry; // expiresAt → order
};
