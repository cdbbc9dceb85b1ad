#include "libp2p/identitykey.h"
#include "libp2p/multiaddr.h"
#include "libp2p/peerid.h"
#include "libp2p/protobuf.h"
#include "libp2p/relay/relaymessages.h"
#include "libp2p/relay/reservationvoucher.h"
#include "libp2p/signedenvelope.h"
#include "libp2p/varint.h"

#include <QTest>

using namespace RelayMessages;

// The circuit relay v2 messages, their framing and the reservation voucher, against bytes
// written out by hand from circuit-v2.md's protobuf.
class TestRelayMessages : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hopReserveDecodesFromSpecBytes();
    void hopStatusRoundTrips();
    void stopConnectEncodesFieldsInOrder();
    void malformedMessagesAreRefused_data();
    void malformedMessagesAreRefused();
    void frameReaderWaitsAndKeepsTheRest();
    void frameReaderRefusesLongMessages();
    void voucherIsCanonicalAndVerifies();
    void voucherFromAnotherDomainOrSignerIsRefused();
};

void TestRelayMessages::hopReserveDecodesFromSpecBytes()
{
    // HopMessage { type = RESERVE }: field 1, varint 0.
    const auto message = HopMessage::decode(QByteArray::fromHex("0800"));
    QVERIFY(message);
    QCOMPARE(message->type, HopMessage::Reserve);
    QVERIFY(!message->peer && !message->status);
    // An empty message has no type, which is required.
    QVERIFY(!HopMessage::decode(QByteArray()));
}

void TestRelayMessages::hopStatusRoundTrips()
{
    HopMessage message;
    message.type = HopMessage::StatusType;
    message.status = Status::Ok;
    Reservation reservation;
    reservation.expire = 1700000000;
    reservation.addrs.push_back(
        Multiaddr::fromText(QStringLiteral("/ip4/127.0.0.1/tcp/4001"))->toBytes());
    reservation.voucher = "voucher";
    message.reservation = reservation;
    message.limit = Limit{1800, 16 * 1024 * 1024};
    const QByteArray bytes = message.encode();
    // type 2, then reservation (3), limit (4) and status 100 (5), in field order.
    QVERIFY(bytes.startsWith(QByteArray::fromHex("08021a")));
    QVERIFY(bytes.endsWith(QByteArray::fromHex("2864")));
    const auto decoded = HopMessage::decode(bytes);
    QVERIFY(decoded);
    QCOMPARE(decoded->type, HopMessage::StatusType);
    QCOMPARE(*decoded->status, Status::Ok);
    QCOMPARE(*decoded->reservation->expire, quint64(1700000000));
    QCOMPARE(decoded->reservation->addrs, reservation.addrs);
    QCOMPARE(decoded->reservation->voucher, QByteArray("voucher"));
    QCOMPARE(*decoded->limit->duration, quint32(1800));
    QCOMPARE(*decoded->limit->data, quint64(16 * 1024 * 1024));
    QCOMPARE(decoded->encode(), bytes);
}

void TestRelayMessages::stopConnectEncodesFieldsInOrder()
{
    StopMessage message;
    message.type = StopMessage::Connect;
    message.peer = Peer{QByteArray::fromHex("0024080112"), {}};
    message.limit = Limit{60, std::nullopt};
    // type 0; peer {id}; limit {duration 60}.
    QCOMPARE(message.encode().toHex(), QByteArray("080012070a050024080112") + "1a02083c");
    const auto decoded = StopMessage::decode(message.encode());
    QVERIFY(decoded);
    QCOMPARE(decoded->type, StopMessage::Connect);
    QCOMPARE(decoded->peer->id, message.peer->id);
    QCOMPARE(*decoded->limit->duration, quint32(60));
    QVERIFY(!decoded->limit->data);
    QVERIFY(!decoded->status);

    const auto status = StopMessage::decode(QByteArray::fromHex("08012064"));
    QVERIFY(status);
    QCOMPARE(status->type, StopMessage::StatusType);
    QCOMPARE(*status->status, Status::Ok);
}

void TestRelayMessages::malformedMessagesAreRefused_data()
{
    QTest::addColumn<QByteArray>("hex");
    QTest::newRow("unknown type") << QByteArray("0803");
    QTest::newRow("type as bytes") << QByteArray("0a00");
    QTest::newRow("peer as varint") << QByteArray("08011001");
    QTest::newRow("peer without id") << QByteArray("080112021200");
    QTest::newRow("truncated peer") << QByteArray("0801120512");
    QTest::newRow("limit with bytes") << QByteArray("080122020a00");
    QTest::newRow("status beyond 32 bits") << QByteArray("080228ffffffff7f");
    QTest::newRow("group wire type") << QByteArray("08000b");
}

void TestRelayMessages::malformedMessagesAreRefused()
{
    QFETCH(QByteArray, hex);
    QVERIFY(!HopMessage::decode(QByteArray::fromHex(hex)));
}

void TestRelayMessages::frameReaderWaitsAndKeepsTheRest()
{
    FrameReader reader;
    const QByteArray message = QByteArray::fromHex("0801");
    const QByteArray framed = frame(message);
    QCOMPARE(framed.toHex(), QByteArray("020801"));
    QCOMPARE(reader.feed(framed.left(2)), FrameReader::State::NeedMore);
    QCOMPARE(reader.feed(framed.mid(2) + "after"), FrameReader::State::Ready);
    QCOMPARE(reader.message(), message);
    QCOMPARE(reader.takeRemainder(), QByteArray("after"));
}

void TestRelayMessages::frameReaderRefusesLongMessages()
{
    FrameReader reader;
    QCOMPARE(reader.feed(Varint::encode(maxMessageBytes + 1)), FrameReader::State::Failed);
    FrameReader endless;
    QCOMPARE(endless.feed(QByteArray(11, char(0x80))), FrameReader::State::Failed);
}

void TestRelayMessages::voucherIsCanonicalAndVerifies()
{
    const IdentityKey relay = IdentityKey::generate();
    const IdentityKey client = IdentityKey::generate();
    const PeerId relayId = PeerId::fromPublicKey(relay.publicKeyProtobuf());
    const PeerId clientId = PeerId::fromPublicKey(client.publicKeyProtobuf());
    const ReservationVoucher voucher{relayId.bytes(), clientId.bytes(), 1700003600};
    // relay (1), peer (2), expiration (3), in that order.
    const QByteArray encoded = voucher.encode();
    QCOMPARE(encoded.left(2), QByteArray::fromHex("0a26"));
    QCOMPARE(encoded.mid(40, 2), QByteArray::fromHex("1226"));
    QCOMPARE(encoded.mid(80, 1), QByteArray::fromHex("18"));

    const QByteArray envelope = voucher.seal(relay);
    const auto opened = SignedEnvelope::open(envelope, "libp2p-relay-rsvp");
    QVERIFY(opened);
    QCOMPARE(opened->payloadType, QByteArray::fromHex("0302"));
    QCOMPARE(opened->payload, encoded);
    QVERIFY(opened->signer() == relayId);
    const auto back = ReservationVoucher::open(envelope);
    QVERIFY(back);
    QCOMPARE(back->peer, clientId.bytes());
    QCOMPARE(back->expiration, quint64(1700003600));
}

void TestRelayMessages::voucherFromAnotherDomainOrSignerIsRefused()
{
    const IdentityKey relay = IdentityKey::generate();
    const IdentityKey other = IdentityKey::generate();
    const PeerId relayId = PeerId::fromPublicKey(relay.publicKeyProtobuf());
    const ReservationVoucher voucher{relayId.bytes(), relayId.bytes(), 1};
    const QByteArray wrongDomain = SignedEnvelope::seal(
        relay, "libp2p-routing-state-record", ReservationVoucher::payloadType(), voucher.encode());
    QVERIFY(!ReservationVoucher::open(wrongDomain));
    // Signed by a key that is not the relay the voucher names.
    QVERIFY(!ReservationVoucher::open(voucher.seal(other)));
    QByteArray tampered = voucher.seal(relay);
    tampered[tampered.size() - 70] = char(tampered[tampered.size() - 70] ^ 1);
    QVERIFY(!ReservationVoucher::open(tampered));
}

QTEST_GUILESS_MAIN(TestRelayMessages)
#include "tst_relaymessages.moc"
