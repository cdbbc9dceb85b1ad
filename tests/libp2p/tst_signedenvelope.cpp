#include "libp2p/identitykey.h"
#include "libp2p/peerrecord.h"
#include "libp2p/signedenvelope.h"

#include <QTest>

// Signed envelopes (RFC 0002) and peer records (RFC 0003), against bytes js-libp2p made.
class TestSignedEnvelope : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sealsLikeJsLibp2p();
    void opensJsLibp2pEnvelope();
    void roundTrips();
    void refusesOtherDomain();
    void refusesTampering_data();
    void refusesTampering();
    void refusesGarbage_data();
    void refusesGarbage();
    void peerRecordRoundTrips();
    void peerRecordRefusesMalformed_data();
    void peerRecordRefusesMalformed();
};

// The peer-ids spec's Ed25519 key, and what @libp2p/peer-record 7.0.25 made with it: a peer
// record for /ip4/127.0.0.1/tcp/4001 and /ip6/::1/tcp/4002/ws, seq 1796137996174 (its clock),
// sealed.
static const QByteArray specPrivateKey = QByteArray::fromHex(
    "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8"
    "be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e");
static const char specPeerId[] = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";
static const QByteArray jsRecord = QByteArray::fromHex(
    "0a260024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e108e9fab91"
    "a3341a0a0a08047f000001060fa11a180a162900000000000000000000000000000001060fa2dd03");
static const QByteArray jsEnvelope = QByteArray::fromHex(
    "0a24080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e120203011a550a"
    "260024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e108e9fab91a3"
    "341a0a0a08047f000001060fa11a180a162900000000000000000000000000000001060fa2dd032a40a9bcbf87"
    "69e03bb9ac3107c77abed7eb921a638c2a3e6cf8418d6229bf7cb00c78970bd408e44d5b59acc338f55a9437c1"
    "5c75a5bf3c1abd977b3468ceff4004");

static PeerRecord jsPeerRecord()
{
    PeerRecord record;
    record.peerId = *PeerId::fromText(specPeerId);
    record.seq = 1796137996174;
    record.addresses.push_back(*Multiaddr::fromText("/ip4/127.0.0.1/tcp/4001"));
    record.addresses.push_back(*Multiaddr::fromText("/ip6/::1/tcp/4002/ws"));
    return record;
}

void TestSignedEnvelope::sealsLikeJsLibp2p()
{
    // Ed25519 signatures are deterministic: the same key and payload give the same bytes.
    const auto key = IdentityKey::fromPrivateKeyProtobuf(specPrivateKey);
    QVERIFY(key);
    QCOMPARE(jsPeerRecord().encode(), jsRecord);
    QCOMPARE(SignedEnvelope::seal(*key, PeerRecord::domain, PeerRecord::payloadType(), jsRecord),
             jsEnvelope);
}

void TestSignedEnvelope::opensJsLibp2pEnvelope()
{
    QString error;
    const auto envelope = SignedEnvelope::open(jsEnvelope, PeerRecord::domain, &error);
    QVERIFY2(envelope, qPrintable(error));
    QCOMPARE(envelope->signer().toText(), QString::fromLatin1(specPeerId));
    QCOMPARE(envelope->payloadType, PeerRecord::payloadType());
    const auto record = PeerRecord::decode(envelope->payload);
    QVERIFY(record);
    QVERIFY(record->peerId == envelope->signer());
    QCOMPARE(record->seq, quint64(1796137996174));
    QCOMPARE(record->addresses.size(), size_t(2));
    QCOMPARE(record->addresses[1].toText(), QStringLiteral("/ip6/::1/tcp/4002/ws"));
}

void TestSignedEnvelope::roundTrips()
{
    const IdentityKey key = IdentityKey::generate();
    const QByteArray sealed = SignedEnvelope::seal(key, "test-domain", "/type", "payload");
    const auto envelope = SignedEnvelope::open(sealed, "test-domain");
    QVERIFY(envelope);
    QCOMPARE(envelope->publicKey, key.publicKeyProtobuf());
    QCOMPARE(envelope->payloadType, QByteArray("/type"));
    QCOMPARE(envelope->payload, QByteArray("payload"));
    QVERIFY(envelope->signer() == PeerId::fromPublicKey(key.publicKeyProtobuf()));
}

void TestSignedEnvelope::refusesOtherDomain()
{
    QString error;
    QVERIFY(!SignedEnvelope::open(jsEnvelope, "libp2p-relay-rsvp", &error));
    QCOMPARE(error, QStringLiteral("bad envelope signature"));
}

void TestSignedEnvelope::refusesTampering_data()
{
    QTest::addColumn<int>("offset");
    // Inside the payload type, the payload (an address byte) and the signature.
    QTest::newRow("payload type") << 40;
    QTest::newRow("payload") << 0x60;
    QTest::newRow("signature") << int(jsEnvelope.size() - 5);
}

void TestSignedEnvelope::refusesTampering()
{
    QFETCH(int, offset);
    QByteArray tampered = jsEnvelope;
    tampered[offset] = char(tampered[offset] ^ 0x01);
    QVERIFY(!SignedEnvelope::open(tampered, PeerRecord::domain));
}

void TestSignedEnvelope::refusesGarbage_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("truncated") << jsEnvelope.chopped(1);
    QTest::newRow("no signature") << jsEnvelope.left(jsEnvelope.size() - 66);
    QTest::newRow("not protobuf") << QByteArray("\xff\xff\xff", 3);
    // A secp256k1 key type (2): only Ed25519 is verified.
    QTest::newRow("other key type") << QByteArray::fromHex("0a0408021200") + jsEnvelope.mid(38);
}

void TestSignedEnvelope::refusesGarbage()
{
    QFETCH(QByteArray, bytes);
    QString error;
    QVERIFY(!SignedEnvelope::open(bytes, PeerRecord::domain, &error));
    QVERIFY(!error.isEmpty());
}

void TestSignedEnvelope::peerRecordRoundTrips()
{
    const PeerRecord record = jsPeerRecord();
    const auto decoded = PeerRecord::decode(record.encode());
    QVERIFY(decoded);
    QVERIFY(decoded->peerId == record.peerId);
    QCOMPARE(decoded->seq, record.seq);
    QVERIFY(decoded->addresses == record.addresses);
}

void TestSignedEnvelope::peerRecordRefusesMalformed_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("empty (no peer ID)") << QByteArray();
    QTest::newRow("bad peer ID") << QByteArray::fromHex("0a03010203");
    QTest::newRow("bad address") << jsRecord + QByteArray::fromHex("1a040a02ffff");
    QTest::newRow("truncated") << jsRecord.chopped(3);
}

void TestSignedEnvelope::peerRecordRefusesMalformed()
{
    QFETCH(QByteArray, bytes);
    QVERIFY(!PeerRecord::decode(bytes));
}

QTEST_GUILESS_MAIN(TestSignedEnvelope)
#include "tst_signedenvelope.moc"
