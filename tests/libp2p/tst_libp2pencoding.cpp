#include "libp2p/identitykey.h"
#include "libp2p/identitykeyfile.h"
#include "libp2p/multiaddr.h"
#include "libp2p/peerid.h"
#include "libp2p/protobuf.h"
#include "libp2p/varint.h"

#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

// Varints, protobuf, keys, peer IDs and multiaddresses, against the specs' vectors.
class TestLibp2pEncoding : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void varintRoundTrips_data();
    void varintRoundTrips();
    void varintRefusesMalformed();
    void protobufRoundTrip();
    void protobufRefusesMalformed_data();
    void protobufRefusesMalformed();
    void peerIdFromSpecVector();
    void peerIdText();
    void signatureMatchesJsLibp2p();
    void keyFileCreatedPrivate();
    void keyFileRefusesReadableByOthers();
    void keyFileRefusesGarbage();
    void multiaddrRoundTrips_data();
    void multiaddrRoundTrips();
    void multiaddrRefuses_data();
    void multiaddrRefuses();
    void multiaddrFromKnownBytes();
};

// The peer-ids spec's Ed25519 test vector.
static const QByteArray specPrivateKey = QByteArray::fromHex(
    "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8"
    "be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e");
static const QByteArray specPublicKey =
    QByteArray::fromHex("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e");
// The peer ID js-libp2p (@libp2p/peer-id) derives from that key.
static const char specPeerId[] = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";

void TestLibp2pEncoding::varintRoundTrips_data()
{
    QTest::addColumn<quint64>("value");
    QTest::addColumn<QByteArray>("encoded");
    QTest::newRow("0") << quint64(0) << QByteArray::fromHex("00");
    QTest::newRow("1") << quint64(1) << QByteArray::fromHex("01");
    QTest::newRow("127") << quint64(127) << QByteArray::fromHex("7f");
    QTest::newRow("128") << quint64(128) << QByteArray::fromHex("8001");
    QTest::newRow("300") << quint64(300) << QByteArray::fromHex("ac02");
    QTest::newRow("16384") << quint64(16384) << QByteArray::fromHex("808001");
    QTest::newRow("max") << ~quint64(0) << QByteArray::fromHex("ffffffffffffffffff01");
}

void TestLibp2pEncoding::varintRoundTrips()
{
    QFETCH(quint64, value);
    QFETCH(QByteArray, encoded);
    QCOMPARE(Varint::encode(value), encoded);
    const Varint::Decoded decoded = Varint::decode(encoded + "tail");
    QCOMPARE(decoded.status, Varint::Status::Ok);
    QCOMPARE(decoded.value, value);
    QCOMPARE(decoded.length, encoded.size());
    QCOMPARE(Varint::decode(encoded.chopped(1)).status,
             encoded.size() == 1 ? Varint::Status::Incomplete : Varint::Status::Incomplete);
}

void TestLibp2pEncoding::varintRefusesMalformed()
{
    QCOMPARE(Varint::decode(QByteArray::fromHex("ffffffffffffffffff02")).status,
             Varint::Status::Malformed); // 65 bits
    QCOMPARE(Varint::decode(QByteArray(11, '\xff')).status, Varint::Status::Malformed);
    QCOMPARE(Varint::decode(QByteArray()).status, Varint::Status::Incomplete);
}

void TestLibp2pEncoding::protobufRoundTrip()
{
    ProtobufWriter writer;
    writer.addVarint(1, 150);
    writer.addBytes(2, "testing");
    writer.addString(17, "x");
    // Field 1 = 150 is the protobuf documentation's own example: 08 96 01.
    QVERIFY(writer.bytes().startsWith(QByteArray::fromHex("089601")));
    // An unknown fixed32 field in the middle is skipped.
    const QByteArray message = writer.bytes() + QByteArray::fromHex("1d01020304") + "\x20\x05";
    ProtobufReader reader(message);
    auto field = reader.next();
    QVERIFY(field && field->number == 1 && field->varint == 150);
    field = reader.next();
    QVERIFY(field && field->number == 2 && field->bytes == "testing");
    field = reader.next();
    QVERIFY(field && field->number == 17 && field->bytes == "x");
    field = reader.next();
    QVERIFY(field && field->number == 3 && field->type == ProtobufReader::Fixed32Type);
    field = reader.next();
    QVERIFY(field && field->number == 4 && field->varint == 5);
    QVERIFY(!reader.next());
    QVERIFY(!reader.failed());
}

void TestLibp2pEncoding::protobufRefusesMalformed_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::newRow("length past the end") << QByteArray::fromHex("0a05616263");
    QTest::newRow("huge length") << QByteArray::fromHex("0affffffffffffffff7f");
    QTest::newRow("truncated varint") << QByteArray::fromHex("0896");
    QTest::newRow("field zero") << QByteArray::fromHex("0001");
    QTest::newRow("group") << QByteArray::fromHex("0b");
    QTest::newRow("short fixed64") << QByteArray::fromHex("0901020304");
}

void TestLibp2pEncoding::protobufRefusesMalformed()
{
    QFETCH(QByteArray, message);
    ProtobufReader reader(message);
    while (reader.next()) {
    }
    QVERIFY(reader.failed());
    QVERIFY(!reader.next());
}

void TestLibp2pEncoding::peerIdFromSpecVector()
{
    const auto key = IdentityKey::fromPrivateKeyProtobuf(specPrivateKey);
    QVERIFY(key);
    QCOMPARE(key->publicKeyProtobuf(), specPublicKey);
    QCOMPARE(key->privateKeyProtobuf(), specPrivateKey);
    QCOMPARE(PeerId::fromPublicKey(specPublicKey).toText(), QString::fromLatin1(specPeerId));
    // The older 96-byte form is read too; a mismatched public key is refused.
    QByteArray older = specPrivateKey;
    older[3] = char(0x60);
    older += specPublicKey.right(32);
    QVERIFY(IdentityKey::fromPrivateKeyProtobuf(older));
    QByteArray wrong = specPrivateKey;
    wrong[wrong.size() - 1] = char(wrong.back() ^ 1);
    QVERIFY(!IdentityKey::fromPrivateKeyProtobuf(wrong));
}

void TestLibp2pEncoding::peerIdText()
{
    const auto id = PeerId::fromText(QString::fromLatin1(specPeerId));
    QVERIFY(id);
    QCOMPARE(id->inlinedPublicKey().value_or(QByteArray()), specPublicKey);
    // A SHA-256 peer ID (an RSA key's) from the spec.
    const auto rsa =
        PeerId::fromText(QStringLiteral("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"));
    QVERIFY(rsa);
    QCOMPARE(rsa->bytes().size(), 34);
    QCOMPARE(rsa->toText(), QStringLiteral("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"));
    QVERIFY(!PeerId::fromText(QStringLiteral("12D3KooW0")));   // 0 is not base58
    QVERIFY(!PeerId::fromText(QStringLiteral("12D3KooWBtg"))); // a truncated multihash
    QVERIFY(!PeerId::fromText(QString()));
    QVERIFY(!PeerId::fromText(QStringLiteral("bafz")));
}

void TestLibp2pEncoding::signatureMatchesJsLibp2p()
{
    // Ed25519 is deterministic: js-libp2p's @libp2p/crypto signs "goop" with the spec's key
    // to exactly these bytes.
    const auto key = IdentityKey::fromPrivateKeyProtobuf(specPrivateKey);
    const QByteArray expected = QByteArray::fromHex(
        "34faa84440e0e4eb51bc302476085fc3af53f41518cf09f3bc20e1e9b6251f4d3f1ec56ad54a2f4f1111c5"
        "75c0338a4b62221f9cdbf1eb766b450e4eaf1b2d07");
    QCOMPARE(key->sign("goop"), expected);
    QVERIFY(IdentityKey::verify(specPublicKey, "goop", expected));
    QVERIFY(!IdentityKey::verify(specPublicKey, "goop!", expected));
    QVERIFY(!IdentityKey::verify(specPublicKey, "goop", expected.left(63)));
}

void TestLibp2pEncoding::keyFileCreatedPrivate()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("libp2p.key"));
    QString error;
    const auto created = IdentityKeyFile::loadOrCreate(path, &error);
    QVERIFY2(created, qPrintable(error));
    struct stat status = {};
    QCOMPARE(::stat(QFile::encodeName(path).constData(), &status), 0);
    QCOMPARE(status.st_mode & 0777, 0600u);
    const auto loaded = IdentityKeyFile::loadOrCreate(path, &error);
    QVERIFY2(loaded, qPrintable(error));
    QCOMPARE(loaded->publicKeyProtobuf(), created->publicKeyProtobuf());
    // Nothing else is left in the directory (no temporary file).
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 1);
}

void TestLibp2pEncoding::keyFileRefusesReadableByOthers()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("libp2p.key"));
    QString error;
    QVERIFY(IdentityKeyFile::loadOrCreate(path, &error));
    QVERIFY(::chmod(QFile::encodeName(path).constData(), 0644) == 0);
    QVERIFY(!IdentityKeyFile::loadOrCreate(path, &error));
    QVERIFY2(error.contains(QLatin1String("readable by others")), qPrintable(error));
    QVERIFY(error.contains(QLatin1String("0644")));
    QVERIFY(!error.contains(QLatin1Char('\n')));
}

void TestLibp2pEncoding::keyFileRefusesGarbage()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("libp2p.key"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("not a key");
    file.close();
    QVERIFY(file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    QString error;
    QVERIFY(!IdentityKeyFile::loadOrCreate(path, &error));
    QVERIFY2(error.contains(QLatin1String("does not hold")), qPrintable(error));
}

void TestLibp2pEncoding::multiaddrRoundTrips_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("ip4 tcp") << QStringLiteral("/ip4/127.0.0.1/tcp/4001");
    QTest::newRow("ip6 tcp") << QStringLiteral("/ip6/::1/tcp/0");
    QTest::newRow("ip6 full") << QStringLiteral("/ip6/2001:db8::8a2e:370:7334/tcp/65535");
    QTest::newRow("dns4") << QStringLiteral("/dns4/relay.example.org/tcp/443/wss");
    QTest::newRow("dns6") << QStringLiteral("/dns6/example.org/udp/4001/quic-v1");
    QTest::newRow("dns dnsaddr") << QStringLiteral("/dnsaddr/bootstrap.libp2p.io");
    QTest::newRow("p2p") << QStringLiteral("/ip4/203.0.113.7/tcp/4001/p2p/") + specPeerId;
    QTest::newRow("circuit") << QStringLiteral("/ip4/203.0.113.7/tcp/4001/p2p/") + specPeerId +
                                    QStringLiteral("/p2p-circuit/p2p/") + specPeerId;
    QTest::newRow("p2p alone") << QStringLiteral("/p2p/") + specPeerId;
}

void TestLibp2pEncoding::multiaddrRoundTrips()
{
    QFETCH(QString, text);
    QString error;
    const auto address = Multiaddr::fromText(text, &error);
    QVERIFY2(address, qPrintable(error));
    QCOMPARE(address->toText(), text);
    const auto fromBytes = Multiaddr::fromBytes(address->toBytes());
    QVERIFY(fromBytes);
    QCOMPARE(*fromBytes, *address);
    QCOMPARE(fromBytes->toText(), text);
}

void TestLibp2pEncoding::multiaddrRefuses_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << QString();
    QTest::newRow("no slash") << QStringLiteral("ip4/1.2.3.4");
    QTest::newRow("bad ip4") << QStringLiteral("/ip4/1.2.3/tcp/1");
    QTest::newRow("ip6 in ip4") << QStringLiteral("/ip4/::1/tcp/1");
    QTest::newRow("port too big") << QStringLiteral("/ip4/1.2.3.4/tcp/65536");
    QTest::newRow("missing port") << QStringLiteral("/ip4/1.2.3.4/tcp");
    QTest::newRow("unknown") << QStringLiteral("/ip4/1.2.3.4/sctp/1");
    QTest::newRow("bad peer") << QStringLiteral("/p2p/notapeerid");
    QTest::newRow("trailing slash") << QStringLiteral("/ip4/1.2.3.4/");
}

void TestLibp2pEncoding::multiaddrRefuses()
{
    QFETCH(QString, text);
    QString error;
    QVERIFY(!Multiaddr::fromText(text, &error));
    QVERIFY(!error.isEmpty());
}

void TestLibp2pEncoding::multiaddrFromKnownBytes()
{
    // /ip4/127.0.0.1/tcp/4001 as the multiaddr spec lays it out.
    const QByteArray bytes = QByteArray::fromHex("047f000001060fa1");
    const auto address = Multiaddr::fromBytes(bytes);
    QVERIFY(address);
    QCOMPARE(address->toText(), QStringLiteral("/ip4/127.0.0.1/tcp/4001"));
    QCOMPARE(address->tcpEndpoint()->second, quint16(4001));
    QVERIFY(!Multiaddr::fromBytes(bytes.chopped(1)));
    QVERIFY(!Multiaddr::fromBytes(QByteArray()));
    QVERIFY(!Multiaddr::fromBytes(QByteArray::fromHex("84007f000001"))); // a non-minimal varint
    QVERIFY(!Multiaddr::fromBytes(QByteArray::fromHex("a503")));         // p2p, length past end
    QVERIFY(!Multiaddr::fromBytes(QByteArray::fromHex("ffffffff0f")));   // unknown code
    QCOMPARE(Multiaddr::tcp(QHostAddress(QStringLiteral("::ffff:10.0.0.1")), 5).toText(),
             QStringLiteral("/ip4/10.0.0.1/tcp/5"));
}

QTEST_GUILESS_MAIN(TestLibp2pEncoding)
#include "tst_libp2pencoding.moc"
