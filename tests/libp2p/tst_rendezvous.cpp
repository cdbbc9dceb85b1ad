#include "libp2p/identitykey.h"
#include "libp2p/peerrecord.h"
#include "libp2p/rendezvous/registrationstore.h"
#include "libp2p/rendezvous/rendezvousmessage.h"
#include "libp2p/rendezvous/rendezvouspoint.h"
#include "libp2p/rendezvous/sharedregistration.h"
#include "libp2p/signedenvelope.h"

#include <QDateTime>
#include <QTest>

#include <algorithm>

using Message = RendezvousMessage;

// The rendezvous point without a network: its messages, its store's limits, TTLs and cookies,
// and the checks on REGISTER, with a clock the test turns.
class TestRendezvous : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void codecRoundTrips();
    void codecReadsSpecBytes();
    void codecRefusesMalformed();
    void registersAndDiscovers();
    void defaultAndMaximumTtl();
    void refusesBadTtl_data();
    void refusesBadTtl();
    void refusesBadNamespace();
    void registrationsExpire();
    void refreshReplaces();
    void unregisterRemovesOnlyOneself();
    void cookiePagesThenShowsOnlyNew();
    void discoverAllNamespaces();
    void pageStopsAtByteBound();
    void refusesBadCookie_data();
    void refusesBadCookie();
    void refusesBadSignature();
    void refusesRecordOfAnotherPeer();
    void refusesOtherRegistrant();
    void refusesOtherEnvelopeDomain();
    void boundsPerPeer();
    void boundsPerNamespace();
    void boundsTotal();
    void countsRequestsAndRefusals();
    void sharingReportsChanges();
    void sharedRegistrationDecodeChecksTheRecord();
    void sharedRegistrationsKeepCookiesStill();
    void resynchroniseReplacesOnlyWhatCameFromOthers();

private:
    RendezvousPoint::Options options() const;
    Message registerMessage(const IdentityKey &key, const QString &ns,
                            std::optional<qint64> ttl = std::nullopt, quint64 seq = 1) const;
    Message::RegisterResult registerPeer(RendezvousPoint &point, const IdentityKey &key,
                                         const QString &ns,
                                         std::optional<qint64> ttl = std::nullopt);
    Message::QueryResult discover(RendezvousPoint &point, const QString &ns, qint64 limit = 0,
                                  const QByteArray &cookie = {});

    qint64 m_now = 0;
    RegistrationStore::Clock m_clock = [this] { return m_now; };
};

static PeerId peerOf(const IdentityKey &key)
{
    return PeerId::fromPublicKey(key.publicKeyProtobuf());
}

static QByteArray signedRecord(const IdentityKey &signer, const PeerId &about, quint64 seq = 1,
                               const QByteArray &domain = PeerRecord::domain)
{
    PeerRecord record;
    record.peerId = about;
    record.seq = seq;
    record.addresses.push_back(*Multiaddr::fromText("/ip4/192.0.2.7/tcp/4001"));
    return SignedEnvelope::seal(signer, domain, PeerRecord::payloadType(), record.encode());
}

void TestRendezvous::init()
{
    m_now = 1000000;
}

RendezvousPoint::Options TestRendezvous::options() const
{
    RendezvousPoint::Options options;
    options.limits.maxRegistrations = 50;
    options.limits.maxPerPeer = 5;
    options.limits.maxPerNamespace = 20;
    return options;
}

Message TestRendezvous::registerMessage(const IdentityKey &key, const QString &ns,
                                        std::optional<qint64> ttl, quint64 seq) const
{
    Message message;
    message.type = Message::Register;
    message.registration = Message::Registration{ns, signedRecord(key, peerOf(key), seq), ttl};
    return message;
}

Message::RegisterResult TestRendezvous::registerPeer(RendezvousPoint &point, const IdentityKey &key,
                                                     const QString &ns, std::optional<qint64> ttl)
{
    const auto answer = point.handle(registerMessage(key, ns, ttl), peerOf(key));
    [&] {
        QVERIFY(answer && answer->type == Message::RegisterResponse && answer->registerResult);
    }();
    return answer && answer->registerResult ? *answer->registerResult : Message::RegisterResult{};
}

Message::QueryResult TestRendezvous::discover(RendezvousPoint &point, const QString &ns,
                                              qint64 limit, const QByteArray &cookie)
{
    Message request;
    request.type = Message::Discover;
    request.query = Message::Query{ns, limit ? std::optional(limit) : std::nullopt, cookie};
    // Through the codec, as from the wire.
    const auto decoded = Message::decode(request.encode());
    const auto answer = point.handle(*decoded, peerOf(IdentityKey::generate()));
    [&] { QVERIFY(answer && answer->type == Message::DiscoverResponse && answer->queryResult); }();
    const auto reread = Message::decode(answer->encode());
    return reread && reread->queryResult ? *reread->queryResult : Message::QueryResult{};
}

void TestRendezvous::codecRoundTrips()
{
    Message message;
    message.type = Message::DiscoverResponse;
    message.queryResult = Message::QueryResult{
        {{QStringLiteral("ns-é"), "record", 7200}, {QStringLiteral("b"), "r2", std::nullopt}},
        "cookie",
        Message::InvalidCookie,
        QStringLiteral("why")};
    const auto decoded = Message::decode(message.encode());
    QVERIFY(decoded);
    QCOMPARE(decoded->type, Message::DiscoverResponse);
    QVERIFY(decoded->queryResult);
    QCOMPARE(decoded->queryResult->registrations.size(), size_t(2));
    QCOMPARE(decoded->queryResult->registrations[0].ns, QStringLiteral("ns-é"));
    QCOMPARE(decoded->queryResult->registrations[0].ttl, std::optional<qint64>(7200));
    QVERIFY(!decoded->queryResult->registrations[1].ttl);
    QCOMPARE(decoded->queryResult->cookie, QByteArray("cookie"));
    QCOMPARE(decoded->queryResult->status, Message::InvalidCookie);
    QCOMPARE(decoded->queryResult->statusText, QStringLiteral("why"));

    Message unregister;
    unregister.type = Message::Unregister;
    unregister.unregistration = Message::Unregistration{QStringLiteral("app"), "id"};
    const auto reread = Message::decode(unregister.encode());
    QVERIFY(reread && reread->unregistration);
    QCOMPARE(reread->type, Message::Unregister);
    QCOMPARE(reread->unregistration->id, QByteArray("id"));
}

void TestRendezvous::codecReadsSpecBytes()
{
    // Written by hand from the spec's protobuf: type DISCOVER, discover {ns "my-app", limit 2,
    // cookie "c1"}.
    const QByteArray bytes = QByteArray::fromHex("0803") + QByteArray::fromHex("2a0e") +
                             QByteArray::fromHex("0a06") + "my-app" + QByteArray::fromHex("1002") +
                             QByteArray::fromHex("1a02") + "c1";
    const auto message = Message::decode(bytes);
    QVERIFY(message && message->query);
    QCOMPARE(message->type, Message::Discover);
    QCOMPARE(message->query->ns, QStringLiteral("my-app"));
    QCOMPARE(message->query->limit, std::optional<qint64>(2));
    QCOMPARE(message->query->cookie, QByteArray("c1"));
    // And a REGISTER_RESPONSE {E_INVALID_TTL} is what the spec's numbers make.
    Message answer;
    answer.type = Message::RegisterResponse;
    answer.registerResult = Message::RegisterResult{Message::InvalidTtl, QString(), std::nullopt};
    QCOMPARE(answer.encode().toHex(), QByteArray("08011a020866"));
}

void TestRendezvous::codecRefusesMalformed()
{
    QVERIFY(!Message::decode(QByteArray::fromHex("2a05")));         // truncated nested
    QVERIFY(!Message::decode(QByteArray::fromHex("2a020aff")));     // bad nested length
    QVERIFY(!Message::decode(QByteArray::fromHex("32040a020aff"))); // bad registration inside
    QVERIFY(Message::decode(QByteArray::fromHex("0803"))->query == std::nullopt);
}

void TestRendezvous::registersAndDiscovers()
{
    RendezvousPoint point(options(), m_clock);
    const IdentityKey a = IdentityKey::generate();
    const IdentityKey b = IdentityKey::generate();
    QCOMPARE(registerPeer(point, a, "my-app").status, Message::Ok);
    QCOMPARE(registerPeer(point, b, "another-app").status, Message::Ok);

    const Message::QueryResult result = discover(point, "my-app");
    QCOMPARE(result.status, Message::Ok);
    QCOMPARE(result.registrations.size(), size_t(1));
    QCOMPARE(result.registrations[0].ns, QStringLiteral("my-app"));
    // What comes back is the peer's own signed record, which others can verify.
    const auto envelope =
        SignedEnvelope::open(result.registrations[0].signedPeerRecord, PeerRecord::domain);
    QVERIFY(envelope);
    QVERIFY(envelope->signer() == peerOf(a));
    QVERIFY(!result.cookie.isEmpty());
    QCOMPARE(point.store().counts().registrations, 2);
    QCOMPARE(point.store().counts().namespaces, 2);
}

void TestRendezvous::defaultAndMaximumTtl()
{
    RendezvousPoint point(options(), m_clock);
    QCOMPARE(registerPeer(point, IdentityKey::generate(), "a").ttl, std::optional<qint64>(7200));
    QCOMPARE(registerPeer(point, IdentityKey::generate(), "a", 0).ttl, std::optional<qint64>(7200));
    QCOMPARE(registerPeer(point, IdentityKey::generate(), "a", 72 * 3600).ttl,
             std::optional<qint64>(72 * 3600));
    const auto found = discover(point, "a");
    QCOMPARE(found.registrations.size(), size_t(3));
    QCOMPARE(found.registrations[2].ttl, std::optional<qint64>(72 * 3600));
}

void TestRendezvous::refusesBadTtl_data()
{
    QTest::addColumn<qint64>("ttl");
    QTest::newRow("below 2 h") << qint64(7199);
    QTest::newRow("above 72 h") << qint64(72 * 3600 + 1);
    QTest::newRow("negative") << qint64(-5);
}

void TestRendezvous::refusesBadTtl()
{
    QFETCH(qint64, ttl);
    RendezvousPoint point(options(), m_clock);
    QCOMPARE(registerPeer(point, IdentityKey::generate(), "a", ttl).status, Message::InvalidTtl);
    QCOMPARE(point.store().counts().registrations, 0);
}

void TestRendezvous::refusesBadNamespace()
{
    RendezvousPoint point(options(), m_clock);
    const IdentityKey key = IdentityKey::generate();
    QCOMPARE(registerPeer(point, key, QString()).status, Message::InvalidNamespace);
    QCOMPARE(registerPeer(point, key, QString(256, 'n')).status, Message::InvalidNamespace);
    QCOMPARE(registerPeer(point, key, QString(255, 'n')).status, Message::Ok);
}

void TestRendezvous::registrationsExpire()
{
    RendezvousPoint point(options(), m_clock);
    registerPeer(point, IdentityKey::generate(), "a", 7200);
    registerPeer(point, IdentityKey::generate(), "a", 10000);
    m_now += 7200 * 1000 - 1;
    QCOMPARE(discover(point, "a").registrations.size(), size_t(2));
    QCOMPARE(discover(point, "a").registrations[0].ttl, std::optional<qint64>(1));
    m_now += 1;
    QCOMPARE(discover(point, "a").registrations.size(), size_t(1));
    m_now += 2800 * 1000;
    QCOMPARE(discover(point, "a").registrations.size(), size_t(0));
    QCOMPARE(point.store().counts().namespaces, 0);
}

void TestRendezvous::refreshReplaces()
{
    RendezvousPoint point(options(), m_clock);
    const IdentityKey key = IdentityKey::generate();
    registerPeer(point, key, "a", 7200);
    m_now += 7000 * 1000;
    registerPeer(point, key, "a", 7200); // the new TTL supersedes the old one
    m_now += 1000 * 1000;
    QCOMPARE(discover(point, "a").registrations.size(), size_t(1));
    QCOMPARE(point.store().counts().registrations, 1);
    // A record older than the registered one is refused.
    const auto stale = point.handle(registerMessage(key, "a", std::nullopt, 0), peerOf(key));
    QCOMPARE(stale->registerResult->status, Message::InvalidSignedPeerRecord);
}

void TestRendezvous::unregisterRemovesOnlyOneself()
{
    RendezvousPoint point(options(), m_clock);
    const IdentityKey a = IdentityKey::generate();
    const IdentityKey b = IdentityKey::generate();
    registerPeer(point, a, "x");
    registerPeer(point, a, "y");
    registerPeer(point, b, "x");
    Message request;
    request.type = Message::Unregister;
    // `a` names `b`: it is still only `a` that goes.
    request.unregistration = Message::Unregistration{"x", peerOf(b).bytes()};
    QVERIFY(!point.handle(request, peerOf(a)));
    QCOMPARE(discover(point, "x").registrations.size(), size_t(1));
    QCOMPARE(discover(point, "y").registrations.size(), size_t(1));
    request.unregistration = Message::Unregistration{QString(), {}};
    point.handle(request, peerOf(a)); // no namespace: everywhere
    QCOMPARE(point.store().counts().registrations, 1);
}

void TestRendezvous::cookiePagesThenShowsOnlyNew()
{
    RendezvousPoint point(options(), m_clock);
    for (int i = 0; i < 5; ++i)
        registerPeer(point, IdentityKey::generate(), "app");
    registerPeer(point, IdentityKey::generate(), "other");

    const auto first = discover(point, "app", 2);
    QCOMPARE(first.registrations.size(), size_t(2));
    const auto second = discover(point, "app", 2, first.cookie);
    QCOMPARE(second.registrations.size(), size_t(2));
    QVERIFY(second.registrations[0].signedPeerRecord != first.registrations[1].signedPeerRecord);
    const auto third = discover(point, "app", 2, second.cookie);
    QCOMPARE(third.registrations.size(), size_t(1));
    const auto caughtUp = discover(point, "app", 2, third.cookie);
    QCOMPARE(caughtUp.status, Message::Ok);
    QCOMPARE(caughtUp.registrations.size(), size_t(0));

    const IdentityKey late = IdentityKey::generate();
    registerPeer(point, late, "app");
    registerPeer(point, IdentityKey::generate(), "other");
    const auto fresh = discover(point, "app", 0, caughtUp.cookie);
    QCOMPARE(fresh.registrations.size(), size_t(1));
    QVERIFY(SignedEnvelope::open(fresh.registrations[0].signedPeerRecord, PeerRecord::domain)
                ->signer() == peerOf(late));
}

void TestRendezvous::discoverAllNamespaces()
{
    RendezvousPoint point(options(), m_clock);
    registerPeer(point, IdentityKey::generate(), "a");
    registerPeer(point, IdentityKey::generate(), "b");
    const auto all = discover(point, QString());
    QCOMPARE(all.registrations.size(), size_t(2));
    registerPeer(point, IdentityKey::generate(), "c");
    const auto fresh = discover(point, QString(), 0, all.cookie);
    QCOMPARE(fresh.registrations.size(), size_t(1));
    QCOMPARE(fresh.registrations[0].ns, QStringLiteral("c"));
}

void TestRendezvous::pageStopsAtByteBound()
{
    RendezvousPoint::Options bounded = options();
    bounded.limits.maxPageBytes = 400; // two records of about 170 bytes
    RendezvousPoint point(bounded, m_clock);
    for (int i = 0; i < 5; ++i)
        registerPeer(point, IdentityKey::generate(), "app");
    const auto first = discover(point, "app", 100);
    QCOMPARE(first.registrations.size(), size_t(2));
    const auto second = discover(point, "app", 100, first.cookie);
    QCOMPARE(second.registrations.size(), size_t(2));
    QCOMPARE(discover(point, "app", 100, second.cookie).registrations.size(), size_t(1));
}

void TestRendezvous::refusesBadCookie_data()
{
    QTest::addColumn<QByteArray>("cookie");
    QTest::newRow("too short") << QByteArray("short");
    QTest::newRow("garbage") << QByteArray(40, '\x7f');
}

void TestRendezvous::refusesBadCookie()
{
    QFETCH(QByteArray, cookie);
    RendezvousPoint point(options(), m_clock);
    registerPeer(point, IdentityKey::generate(), "app");
    const auto result = discover(point, "app", 0, cookie);
    QCOMPARE(result.status, Message::InvalidCookie);
    QVERIFY(result.registrations.empty());
    // A cookie for one namespace is no good for another.
    const QByteArray appCookie = discover(point, "app").cookie;
    QCOMPARE(discover(point, "elsewhere", 0, appCookie).status, Message::InvalidCookie);
}

void TestRendezvous::refusesBadSignature()
{
    RendezvousPoint point(options(), m_clock);
    const IdentityKey key = IdentityKey::generate();
    Message request = registerMessage(key, "app");
    QByteArray &record = request.registration->signedPeerRecord;
    record[record.size() - 1] = char(record[record.size() - 1] ^ 0x40);
    const auto answer = point.handle(request, peerOf(key));
    QCOMPARE(answer->registerResult->status, Message::InvalidSignedPeerRecord);
    request.registration->signedPeerRecord = "not an envelope";
    QCOMPARE(point.handle(request, peerOf(key))->registerResult->status,
             Message::InvalidSignedPeerRecord);
    QCOMPARE(point.store().counts().registrations, 0);
}

void TestRendezvous::refusesRecordOfAnotherPeer()
{
    // Signed correctly, but by `key` about someone else.
    RendezvousPoint point(options(), m_clock);
    const IdentityKey key = IdentityKey::generate();
    Message request = registerMessage(key, "app");
    request.registration->signedPeerRecord = signedRecord(key, peerOf(IdentityKey::generate()));
    QCOMPARE(point.handle(request, peerOf(key))->registerResult->status,
             Message::InvalidSignedPeerRecord);
}

void TestRendezvous::refusesOtherRegistrant()
{
    // A valid record of `a`, sent by `b`: only a peer itself may register.
    RendezvousPoint point(options(), m_clock);
    const IdentityKey a = IdentityKey::generate();
    const auto answer = point.handle(registerMessage(a, "app"), peerOf(IdentityKey::generate()));
    QCOMPARE(answer->registerResult->status, Message::NotAuthorized);
    QCOMPARE(point.store().counts().registrations, 0);
}

void TestRendezvous::refusesOtherEnvelopeDomain()
{
    RendezvousPoint point(options(), m_clock);
    const IdentityKey key = IdentityKey::generate();
    Message request = registerMessage(key, "app");
    request.registration->signedPeerRecord = signedRecord(key, peerOf(key), 1, "libp2p-relay-rsvp");
    QCOMPARE(point.handle(request, peerOf(key))->registerResult->status,
             Message::InvalidSignedPeerRecord);
}

void TestRendezvous::boundsPerPeer()
{
    RendezvousPoint point(options(), m_clock);
    const IdentityKey key = IdentityKey::generate();
    for (int i = 0; i < 5; ++i)
        QCOMPARE(registerPeer(point, key, QString::number(i)).status, Message::Ok);
    QCOMPARE(registerPeer(point, key, "5").status, Message::NotAuthorized);
    QCOMPARE(registerPeer(point, key, "0").status, Message::Ok); // a refresh is no new one
    QCOMPARE(point.store().counts().registrations, 5);
}

void TestRendezvous::boundsPerNamespace()
{
    RendezvousPoint point(options(), m_clock);
    for (int i = 0; i < 20; ++i)
        registerPeer(point, IdentityKey::generate(), "full");
    QCOMPARE(registerPeer(point, IdentityKey::generate(), "full").status, Message::Unavailable);
    QCOMPARE(registerPeer(point, IdentityKey::generate(), "roomy").status, Message::Ok);
}

void TestRendezvous::boundsTotal()
{
    RendezvousPoint point(options(), m_clock);
    for (int i = 0; i < 50; ++i)
        registerPeer(point, IdentityKey::generate(), QString::number(i % 3));
    QCOMPARE(registerPeer(point, IdentityKey::generate(), "new").status, Message::Unavailable);
    QCOMPARE(point.store().counts().registrations, 50);
    m_now += 7200 * 1000; // room again once they expire
    QCOMPARE(registerPeer(point, IdentityKey::generate(), "new").status, Message::Ok);
}

void TestRendezvous::countsRequestsAndRefusals()
{
    RendezvousPoint point(options(), m_clock);
    registerPeer(point, IdentityKey::generate(), "a");
    registerPeer(point, IdentityKey::generate(), "a", 1);
    discover(point, "a");
    discover(point, "a", 0, "bad");
    const RendezvousPoint::Stats stats = point.stats();
    QCOMPARE(stats.registers, quint64(2));
    QCOMPARE(stats.discovers, quint64(2));
    QCOMPARE(stats.refusals.at(Message::InvalidTtl), quint64(1));
    QCOMPARE(stats.refusals.at(Message::InvalidCookie), quint64(1));
    QCOMPARE(RendezvousPoint::statusName(Message::InvalidCookie), QByteArray("E_INVALID_COOKIE"));
}

void TestRendezvous::sharingReportsChanges()
{
    RendezvousPoint point(options(), m_clock);
    std::vector<SharedRegistration> registered;
    std::vector<QString> unregistered;
    point.setSharing({[&](const SharedRegistration &r) { registered.push_back(r); },
                      [&](const QString &ns, const PeerId &) { unregistered.push_back(ns); }});
    const IdentityKey key = IdentityKey::generate();
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    registerPeer(point, key, "x", 7200);
    registerPeer(point, key, "y", 7200);
    QCOMPARE(registered.size(), size_t(2));
    QCOMPARE(registered[0].ns, QStringLiteral("x"));
    QVERIFY(registered[0].peer == peerOf(key));
    QCOMPARE(registered[0].recordSeq, quint64(1));
    // On the wall clock, which every instance shares.
    QVERIFY(registered[0].expiresAtMs >= before + 7200 * 1000);
    QVERIFY(registered[0].expiresAtMs <= QDateTime::currentMSecsSinceEpoch() + 7200 * 1000);
    // A refused one is not shared.
    point.handle(registerMessage(key, "x", std::nullopt, 0), peerOf(key));
    QCOMPARE(registered.size(), size_t(2));

    Message request;
    request.type = Message::Unregister;
    request.unregistration = Message::Unregistration{QString(), {}};
    point.handle(request, peerOf(key)); // every namespace: each one is shared
    std::sort(unregistered.begin(), unregistered.end());
    QCOMPARE(unregistered, (std::vector<QString>{"x", "y"}));
}

void TestRendezvous::sharedRegistrationDecodeChecksTheRecord()
{
    const IdentityKey key = IdentityKey::generate();
    SharedRegistration shared;
    shared.ns = QString::fromUtf8("with\0a NUL", 10); // the key's separator, yet no confusion
    shared.peer = peerOf(key);
    shared.recordSeq = 1;
    shared.expiresAtMs = 1'900'000'000'000;
    shared.signedPeerRecord = signedRecord(key, peerOf(key), 1);
    const auto decoded = SharedRegistration::decode(shared.key(), shared.value());
    QVERIFY(decoded);
    QCOMPARE(decoded->ns, shared.ns);
    QVERIFY(decoded->peer == shared.peer);
    QCOMPARE(decoded->expiresAtMs, shared.expiresAtMs);
    QCOMPARE(decoded->addresses.size(), size_t(1));

    QVERIFY(!SharedRegistration::decode(shared.key(), "12 1"));
    QVERIFY(!SharedRegistration::decode(shared.key(), "x 1 " + shared.signedPeerRecord));
    QVERIFY(!SharedRegistration::decode("no separator", shared.value()));
    SharedRegistration otherSeq = shared;
    otherSeq.recordSeq = 2;
    QVERIFY(!SharedRegistration::decode(shared.key(), otherSeq.value()));
    SharedRegistration otherPeer = shared;
    otherPeer.peer = peerOf(IdentityKey::generate());
    QVERIFY(!SharedRegistration::decode(otherPeer.key(), shared.value()));
}

void TestRendezvous::sharedRegistrationsKeepCookiesStill()
{
    RendezvousPoint here(options(), m_clock);
    RendezvousPoint elsewhere(options(), m_clock);
    std::vector<SharedRegistration> registered;
    elsewhere.setSharing({[&](const SharedRegistration &r) { registered.push_back(r); }, {}});
    const IdentityKey key = IdentityKey::generate();
    registerPeer(elsewhere, key, "x", 7200);
    QCOMPARE(registered.size(), size_t(1));

    QCOMPARE(here.applyShared(registered[0]), RegistrationStore::Outcome::Added);
    const Message::QueryResult first = discover(here, "x");
    QCOMPARE(first.registrations.size(), size_t(1));
    QVERIFY(first.registrations[0].ttl > 7190 && first.registrations[0].ttl <= 7200);
    // The same again (a snapshot after a reconnection) is nothing new for a cookie.
    QCOMPARE(here.applyShared(registered[0]), RegistrationStore::Outcome::Unchanged);
    QCOMPARE(discover(here, "x", 0, first.cookie).registrations.size(), size_t(0));
    SharedRegistration stale = registered[0];
    stale.recordSeq = 0;
    stale.signedPeerRecord = signedRecord(key, peerOf(key), 0);
    QCOMPARE(here.applyShared(stale), RegistrationStore::Outcome::StaleRecord);
    SharedRegistration over = registered[0];
    over.ns = QStringLiteral("y");
    over.expiresAtMs = QDateTime::currentMSecsSinceEpoch() - 1;
    QCOMPARE(here.applyShared(over), RegistrationStore::Outcome::Unchanged);
    QCOMPARE(here.store().counts().registrations, 1);

    here.applyUnregistration(QStringLiteral("x"), peerOf(key));
    QCOMPARE(here.store().counts().registrations, 0);

    // This instance's limits apply to what others took.
    RendezvousPoint::Options small = options();
    small.limits.maxRegistrations = 0;
    RendezvousPoint full(small, m_clock);
    QCOMPARE(full.applyShared(registered[0]), RegistrationStore::Outcome::StoreFull);
}

void TestRendezvous::resynchroniseReplacesOnlyWhatCameFromOthers()
{
    RendezvousPoint here(options(), m_clock);
    RendezvousPoint elsewhere(options(), m_clock);
    std::vector<SharedRegistration> shared;
    const auto collect = [&](const SharedRegistration &r) { shared.push_back(r); };
    elsewhere.setSharing({collect, {}});
    here.setSharing({collect, {}});
    const IdentityKey own = IdentityKey::generate();
    const IdentityKey gone = IdentityKey::generate();
    const IdentityKey kept = IdentityKey::generate();
    registerPeer(here, own, "x", 7200);
    registerPeer(elsewhere, gone, "x", 7200);
    registerPeer(elsewhere, kept, "x", 7200);
    QCOMPARE(shared.size(), size_t(3));
    here.applyShared(shared[1]);
    here.applyShared(shared[2]);
    QCOMPARE(here.store().counts().registrations, 3);

    // The cluster has `kept` only: `gone` goes, this instance's own stays and is sent again.
    const std::vector<SharedRegistration> resend = here.resynchronise({shared[2]});
    QCOMPARE(resend.size(), size_t(1));
    QVERIFY(resend[0].peer == peerOf(own));
    QVERIFY(qAbs(resend[0].expiresAtMs - shared[0].expiresAtMs) < 1000);
    QStringList peers;
    for (const RegistrationStore::Registration &r : here.store().snapshot())
        peers.append(r.peer.toText());
    peers.sort();
    QStringList expected{peerOf(own).toText(), peerOf(kept).toText()};
    expected.sort();
    QCOMPARE(peers, expected);

    // Once the cluster has it, nothing is sent again.
    QCOMPARE(here.resynchronise({shared[0], shared[2]}).size(), size_t(0));
    QCOMPARE(here.store().counts().registrations, 2);
}

QTEST_GUILESS_MAIN(TestRendezvous)
#include "tst_rendezvous.moc"
