#include "libp2p/noisesession.h"

#include <QTest>

// Noise XX between two of our own endpoints: the handshake, transport both ways, and the
// refusals the spec requires.
class TestNoiseSession : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void handshakeAndTransport();
    void largeMessagesAreSplit();
    void messagesByteByByte();
    void badSignatureIsRefused();
    void wrongExpectedPeerIsRefused();
    void tamperedTransportIsRefused();
    void garbageHandshakeIsRefused();
    void handshakeFramesHaveTheSpecsSizes();
};

namespace {

// A responder that signs some other static key, as an impostor replaying a signature would.
class ForgingResponder : public NoiseSession
{
public:
    using NoiseSession::NoiseSession;

protected:
    QByteArray localPayload(const QByteArray &staticKey) const override
    {
        QByteArray other = staticKey;
        other[0] = char(other[0] ^ 1);
        return handshakePayload(m_signer, other);
    }

private:
    IdentityKey m_signer = IdentityKey::generate();
};

void converse(NoiseSession &a, NoiseSession &b)
{
    for (int round = 0; round < 10; ++round) {
        const QByteArray fromA = a.takeOutput();
        const QByteArray fromB = b.takeOutput();
        if (fromA.isEmpty() && fromB.isEmpty())
            return;
        b.feed(fromA);
        a.feed(fromB);
    }
}

} // namespace

void TestNoiseSession::handshakeAndTransport()
{
    const IdentityKey alice = IdentityKey::generate();
    const IdentityKey bob = IdentityKey::generate();
    NoiseSession initiator(NoiseSession::Role::Initiator, alice,
                           PeerId::fromPublicKey(bob.publicKeyProtobuf()));
    NoiseSession responder(NoiseSession::Role::Responder, bob);
    converse(initiator, responder);
    QCOMPARE(initiator.state(), NoiseSession::State::Established);
    QCOMPARE(responder.state(), NoiseSession::State::Established);
    QCOMPARE(*responder.remotePeer(), PeerId::fromPublicKey(alice.publicKeyProtobuf()));
    QCOMPARE(*initiator.remotePeer(), PeerId::fromPublicKey(bob.publicKeyProtobuf()));
    QCOMPARE(responder.remotePublicKey(), alice.publicKeyProtobuf());

    initiator.send("hello");
    responder.send("world");
    converse(initiator, responder);
    QCOMPARE(responder.takePlaintext(), QByteArray("hello"));
    QCOMPARE(initiator.takePlaintext(), QByteArray("world"));
}

void TestNoiseSession::largeMessagesAreSplit()
{
    NoiseSession initiator(NoiseSession::Role::Initiator, IdentityKey::generate());
    NoiseSession responder(NoiseSession::Role::Responder, IdentityKey::generate());
    converse(initiator, responder);
    QByteArray big(200000, Qt::Uninitialized);
    for (qsizetype i = 0; i < big.size(); ++i)
        big[i] = char(i * 7);
    initiator.send(big);
    const QByteArray wire = initiator.takeOutput();
    // Four frames of at most 65535 bytes, each with its 2-byte length and 16-byte tag.
    QCOMPARE(wire.size(), big.size() + 4 * (2 + 16));
    responder.feed(wire);
    QCOMPARE(responder.takePlaintext(), big);
}

void TestNoiseSession::messagesByteByByte()
{
    NoiseSession initiator(NoiseSession::Role::Initiator, IdentityKey::generate());
    NoiseSession responder(NoiseSession::Role::Responder, IdentityKey::generate());
    for (int round = 0; round < 4; ++round) {
        for (char byte : initiator.takeOutput())
            responder.feed(QByteArray(1, byte));
        for (char byte : responder.takeOutput())
            initiator.feed(QByteArray(1, byte));
    }
    QCOMPARE(responder.state(), NoiseSession::State::Established);
    initiator.send("x");
    for (char byte : initiator.takeOutput())
        responder.feed(QByteArray(1, byte));
    QCOMPARE(responder.takePlaintext(), QByteArray("x"));
}

void TestNoiseSession::badSignatureIsRefused()
{
    NoiseSession initiator(NoiseSession::Role::Initiator, IdentityKey::generate());
    ForgingResponder responder(NoiseSession::Role::Responder, IdentityKey::generate());
    converse(initiator, responder);
    QCOMPARE(initiator.state(), NoiseSession::State::Failed);
    QVERIFY2(initiator.error().contains("signature"), initiator.error().constData());
    QVERIFY(!initiator.remotePeer());
    // The responder never hears the initiator's third message.
    QCOMPARE(responder.state(), NoiseSession::State::Handshaking);
}

void TestNoiseSession::wrongExpectedPeerIsRefused()
{
    NoiseSession initiator(NoiseSession::Role::Initiator, IdentityKey::generate(),
                           PeerId::fromPublicKey(IdentityKey::generate().publicKeyProtobuf()));
    NoiseSession responder(NoiseSession::Role::Responder, IdentityKey::generate());
    converse(initiator, responder);
    QCOMPARE(initiator.state(), NoiseSession::State::Failed);
    QVERIFY(initiator.error().contains("not the one"));
}

void TestNoiseSession::tamperedTransportIsRefused()
{
    NoiseSession initiator(NoiseSession::Role::Initiator, IdentityKey::generate());
    NoiseSession responder(NoiseSession::Role::Responder, IdentityKey::generate());
    converse(initiator, responder);
    initiator.send("secret");
    QByteArray wire = initiator.takeOutput();
    wire[4] = char(wire[4] ^ 0x20);
    responder.feed(wire);
    QCOMPARE(responder.state(), NoiseSession::State::Failed);
    QVERIFY(responder.takePlaintext().isEmpty());
}

void TestNoiseSession::garbageHandshakeIsRefused()
{
    NoiseSession initiator(NoiseSession::Role::Initiator, IdentityKey::generate());
    initiator.takeOutput();
    initiator.feed(QByteArray("\x00\x60", 2) + QByteArray(0x60, 'x'));
    QCOMPARE(initiator.state(), NoiseSession::State::Failed);

    NoiseSession responder(NoiseSession::Role::Responder, IdentityKey::generate());
    responder.feed(QByteArray("\x00\x05hello", 7)); // shorter than an ephemeral key
    QCOMPARE(responder.state(), NoiseSession::State::Failed);
}

void TestNoiseSession::handshakeFramesHaveTheSpecsSizes()
{
    NoiseSession initiator(NoiseSession::Role::Initiator, IdentityKey::generate());
    NoiseSession responder(NoiseSession::Role::Responder, IdentityKey::generate());
    const QByteArray first = initiator.takeOutput();
    QCOMPARE(first.size(), 2 + 32); // -> e, with an empty payload
    QCOMPARE(first.left(2), QByteArray("\x00\x20", 2));
    responder.feed(first);
    const QByteArray second = responder.takeOutput();
    // <- e, ee, s, es and the payload: the key (36), the signature (64), their tags.
    const int payload = 2 + 36 + 2 + 64;
    QCOMPARE(second.size(), 2 + 32 + 48 + payload + 16);
}

QTEST_GUILESS_MAIN(TestNoiseSession)
#include "tst_noisesession.moc"
