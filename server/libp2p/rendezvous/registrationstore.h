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
// counter, so a DISCOVER cookie is just "the last number you saw". The host's thread writes and
// HTTP threads read: every call takes the mutex and drops what has expired.
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
        StoreFull      // maxRegistrations
    };

    explicit RegistrationStore(Limits limits, Clock clock = {});

    const Limits &limits() const { return m_limits; }
    qint64 now() const { return m_clock(); }

    // Adds or refreshes the registration of `registration.peer` in `registration.ns`.
    Outcome add(Registration registration, std::chrono::seconds ttl);
    // An empty namespace removes the peer from every namespace. Returns how many went.
    int remove(const QString &ns, const PeerId &peer);
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
