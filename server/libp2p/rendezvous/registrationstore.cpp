#include "registrationstore.h"

#include <QRandomGenerator>
#include <QtEndian>

#include <chrono>

namespace {

constexpr qsizetype cookieHeaderBytes = 16; // epoch and position, big-endian
// Expiries this close are one registration seen through two clocks (another instance's wall
// clock, then ours), not a refresh.
constexpr qint64 sameExpiryMs = 1000;

qint64 steadyMilliseconds()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

QByteArray makeCookie(quint64 epoch, quint64 position, const QString &ns)
{
    QByteArray cookie(cookieHeaderBytes, Qt::Uninitialized);
    qToBigEndian(epoch, cookie.data());
    qToBigEndian(position, cookie.data() + 8);
    return cookie + ns.toUtf8();
}

} // namespace

RegistrationStore::RegistrationStore(Limits limits, Clock clock)
    : m_limits(limits), m_clock(clock ? std::move(clock) : Clock(steadyMilliseconds)),
      m_epoch(QRandomGenerator::system()->generate64())
{}

RegistrationStore::Outcome RegistrationStore::add(Registration registration,
                                                  std::chrono::seconds ttl)
{
    QMutexLocker locker(&m_mutex);
    dropExpired();
    registration.expiresAt = m_clock() + std::chrono::milliseconds(ttl).count();
    registration.fromOtherInstance = false;
    return insert(std::move(registration), false);
}

RegistrationStore::Outcome RegistrationStore::addShared(Registration registration)
{
    QMutexLocker locker(&m_mutex);
    dropExpired();
    if (registration.expiresAt <= m_clock())
        return Outcome::Unchanged; // over already: nothing to hold
    registration.fromOtherInstance = true;
    return insert(std::move(registration), true);
}

RegistrationStore::Resynchronisation
RegistrationStore::replaceShared(std::vector<Registration> shared)
{
    QMutexLocker locker(&m_mutex);
    dropExpired();
    std::map<std::pair<QString, QByteArray>, const Registration *> incoming;
    for (const Registration &registration : shared)
        incoming[{registration.ns, registration.peer.bytes()}] = &registration;
    Resynchronisation result;
    std::set<std::pair<QString, QByteArray>> resent;
    std::vector<quint64> gone;
    for (const auto &[order, held] : m_byOrder) {
        const auto key = std::make_pair(held.ns, held.peer.bytes());
        const auto found = incoming.find(key);
        if (held.fromOtherInstance) {
            if (found == incoming.end())
                gone.push_back(order);
            continue;
        }
        const Registration *cluster = found == incoming.end() ? nullptr : found->second;
        if (!cluster || cluster->recordSeq < held.recordSeq ||
            (cluster->recordSeq == held.recordSeq &&
             cluster->expiresAt + sameExpiryMs < held.expiresAt)) {
            result.ownToResend.push_back(held);
            resent.insert(key);
        }
    }
    for (const quint64 order : gone)
        erase(order);
    const qint64 now = m_clock();
    for (Registration &registration : shared) {
        if (registration.expiresAt <= now ||
            resent.count({registration.ns, registration.peer.bytes()}) > 0)
            continue;
        registration.fromOtherInstance = true;
        switch (insert(std::move(registration), true)) {
        case Outcome::PeerFull:
        case Outcome::NamespaceFull:
        case Outcome::StoreFull:
            ++result.refused;
            break;
        default:
            break;
        }
    }
    return result;
}

RegistrationStore::Outcome RegistrationStore::insert(Registration registration, bool keepSame)
{
    const auto key = std::make_pair(registration.ns, registration.peer.bytes());
    const auto existing = m_byNamespaceAndPeer.find(key);
    const bool refresh = existing != m_byNamespaceAndPeer.end();
    if (refresh) {
        const Registration &held = m_byOrder.at(existing->second);
        if (registration.recordSeq < held.recordSeq)
            return Outcome::StaleRecord;
        if (keepSame && registration.recordSeq == held.recordSeq &&
            registration.signedPeerRecord == held.signedPeerRecord &&
            qAbs(registration.expiresAt - held.expiresAt) <= sameExpiryMs)
            return Outcome::Unchanged;
        erase(existing->second);
    } else {
        const auto peerCount = m_perPeer.find(key.second);
        if (peerCount != m_perPeer.end() && peerCount->second >= m_limits.maxPerPeer)
            return Outcome::PeerFull;
        const auto ns = m_namespaces.find(registration.ns);
        if (ns != m_namespaces.end() && int(ns->second.size()) >= m_limits.maxPerNamespace)
            return Outcome::NamespaceFull;
        if (int(m_byOrder.size()) >= m_limits.maxRegistrations)
            return Outcome::StoreFull;
    }
    registration.order = ++m_lastOrder;
    m_byNamespaceAndPeer[key] = registration.order;
    m_namespaces[registration.ns].insert(registration.order);
    ++m_perPeer[key.second];
    m_expiry.emplace(registration.expiresAt, registration.order);
    m_byOrder.emplace(registration.order, std::move(registration));
    return refresh ? Outcome::Refreshed : Outcome::Added;
}

std::vector<QString> RegistrationStore::remove(const QString &ns, const PeerId &peer)
{
    QMutexLocker locker(&m_mutex);
    dropExpired();
    std::vector<quint64> orders;
    std::vector<QString> namespaces;
    for (const auto &[key, order] : m_byNamespaceAndPeer) {
        if (key.second == peer.bytes() && (ns.isEmpty() || key.first == ns)) {
            orders.push_back(order);
            namespaces.push_back(key.first);
        }
    }
    for (const quint64 order : orders)
        erase(order);
    return namespaces;
}

std::optional<RegistrationStore::Page> RegistrationStore::discover(const QString &ns, int limit,
                                                                   const QByteArray &cookie)
{
    QMutexLocker locker(&m_mutex);
    dropExpired();
    quint64 after = 0;
    if (!cookie.isEmpty()) {
        if (cookie.size() < cookieHeaderBytes || cookie.mid(cookieHeaderBytes) != ns.toUtf8())
            return std::nullopt;
        if (qFromBigEndian<quint64>(cookie.constData()) == m_epoch)
            after = qFromBigEndian<quint64>(cookie.constData() + 8);
    }
    if (limit <= 0 || limit > m_limits.maxDiscoverLimit)
        limit = m_limits.maxDiscoverLimit;

    Page page;
    bool more = false;
    qsizetype pageBytes = 0;
    auto take = [&](quint64 order) {
        const Registration &registration = m_byOrder.at(order);
        const qsizetype bytes = registration.signedPeerRecord.size() + registration.ns.size() * 3;
        if (int(page.registrations.size()) == limit ||
            (!page.registrations.empty() && pageBytes + bytes > m_limits.maxPageBytes)) {
            more = true;
            return false;
        }
        pageBytes += bytes;
        page.registrations.push_back(registration);
        return true;
    };
    if (ns.isEmpty()) {
        for (auto it = m_byOrder.upper_bound(after); it != m_byOrder.end() && take(it->first);)
            ++it;
    } else if (const auto found = m_namespaces.find(ns); found != m_namespaces.end()) {
        const std::set<quint64> &orders = found->second;
        for (auto it = orders.upper_bound(after); it != orders.end() && take(*it);)
            ++it;
    }
    // A full page resumes after its last entry; otherwise the caller has seen everything so far.
    const quint64 position = more ? page.registrations.back().order : std::max(after, m_lastOrder);
    page.cookie = makeCookie(m_epoch, position, ns);
    return page;
}

std::vector<RegistrationStore::Registration> RegistrationStore::snapshot()
{
    QMutexLocker locker(&m_mutex);
    dropExpired();
    std::vector<Registration> registrations;
    registrations.reserve(m_byOrder.size());
    for (const auto &[order, registration] : m_byOrder)
        registrations.push_back(registration);
    return registrations;
}

RegistrationStore::Counts RegistrationStore::counts()
{
    QMutexLocker locker(&m_mutex);
    dropExpired();
    return {int(m_byOrder.size()), int(m_namespaces.size())};
}

void RegistrationStore::dropExpired()
{
    const qint64 now = m_clock();
    while (!m_expiry.empty() && m_expiry.begin()->first <= now)
        erase(m_expiry.begin()->second);
}

void RegistrationStore::erase(quint64 order)
{
    const auto found = m_byOrder.find(order);
    if (found == m_byOrder.end())
        return;
    const Registration &registration = found->second;
    const QByteArray peer = registration.peer.bytes();
    m_byNamespaceAndPeer.erase({registration.ns, peer});
    if (const auto ns = m_namespaces.find(registration.ns); ns != m_namespaces.end()) {
        ns->second.erase(order);
        if (ns->second.empty())
            m_namespaces.erase(ns);
    }
    if (const auto count = m_perPeer.find(peer); count != m_perPeer.end() && --count->second <= 0)
        m_perPeer.erase(count);
    const auto [first, last] = m_expiry.equal_range(registration.expiresAt);
    for (auto it = first; it != last; ++it) {
        if (it->second == order) {
            m_expiry.erase(it);
            break;
        }
    }
    m_byOrder.erase(found);
}
