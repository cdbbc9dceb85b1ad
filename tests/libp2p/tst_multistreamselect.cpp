#include "libp2p/multistreamselect.h"

#include <QTest>

// multistream-select 1.0 between our listener and dialer, and against hand-written bytes.
class TestMultistreamSelect : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void dialerAndListenerAgree();
    void dialerFallsBackAfterNa();
    void noCommonProtocol();
    void listenerKeepsOptimisticBytes();
    void listenerBytesAreTheSpecs();
    void byteByByte();
    void refusesMalformed_data();
    void refusesMalformed();
    void boundsProposals();
};

namespace {

bool supportsPing(const QByteArray &protocol)
{
    return protocol == "/ipfs/ping/1.0.0";
}

// Passes bytes back and forth until neither side has anything more to say.
void converse(MultistreamSelect &dialer, MultistreamSelect &listener)
{
    for (int round = 0; round < 50; ++round) {
        const QByteArray fromDialer = dialer.takeOutput();
        const QByteArray fromListener = listener.takeOutput();
        if (fromDialer.isEmpty() && fromListener.isEmpty())
            return;
        listener.feed(fromDialer);
        dialer.feed(fromListener);
    }
}

} // namespace

void TestMultistreamSelect::dialerAndListenerAgree()
{
    auto dialer = MultistreamSelect::dialer({"/ipfs/ping/1.0.0"});
    auto listener = MultistreamSelect::listener(supportsPing);
    converse(dialer, listener);
    QCOMPARE(dialer.state(), MultistreamSelect::State::Agreed);
    QCOMPARE(listener.state(), MultistreamSelect::State::Agreed);
    QCOMPARE(listener.protocol(), QByteArray("/ipfs/ping/1.0.0"));
}

void TestMultistreamSelect::dialerFallsBackAfterNa()
{
    auto dialer = MultistreamSelect::dialer({"/unknown/1", "/ipfs/ping/1.0.0"});
    auto listener = MultistreamSelect::listener(supportsPing);
    converse(dialer, listener);
    QCOMPARE(dialer.state(), MultistreamSelect::State::Agreed);
    QCOMPARE(dialer.protocol(), QByteArray("/ipfs/ping/1.0.0"));
}

void TestMultistreamSelect::noCommonProtocol()
{
    auto dialer = MultistreamSelect::dialer({"/a", "/b"});
    auto listener = MultistreamSelect::listener(supportsPing);
    converse(dialer, listener);
    QCOMPARE(dialer.state(), MultistreamSelect::State::Failed);
    QCOMPARE(listener.state(), MultistreamSelect::State::Negotiating);
}

void TestMultistreamSelect::listenerKeepsOptimisticBytes()
{
    // js-libp2p sends the header, the proposal and its first data in one write.
    auto listener = MultistreamSelect::listener(supportsPing);
    listener.feed(MultistreamSelect::message(MultistreamSelect::header) +
                  MultistreamSelect::message("/ipfs/ping/1.0.0") + "payload");
    QCOMPARE(listener.state(), MultistreamSelect::State::Agreed);
    QCOMPARE(listener.takeRemainder(), QByteArray("payload"));
    listener.feed("more");
    QCOMPARE(listener.takeRemainder(), QByteArray("more"));
}

void TestMultistreamSelect::listenerBytesAreTheSpecs()
{
    auto listener = MultistreamSelect::listener(supportsPing);
    listener.feed("\x13/multistream/1.0.0\n\x07/other\n");
    QCOMPARE(listener.takeOutput(), QByteArray("\x13/multistream/1.0.0\n\x03na\n"));
    listener.feed("\x03ls\n");
    QCOMPARE(listener.takeOutput(), QByteArray("\x03na\n"));
}

void TestMultistreamSelect::byteByByte()
{
    auto listener = MultistreamSelect::listener(supportsPing);
    const QByteArray input = MultistreamSelect::message(MultistreamSelect::header) +
                             MultistreamSelect::message("/ipfs/ping/1.0.0");
    for (char byte : input)
        listener.feed(QByteArray(1, byte));
    QCOMPARE(listener.state(), MultistreamSelect::State::Agreed);
}

void TestMultistreamSelect::refusesMalformed_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::newRow("wrong header") << QByteArray("\x13/multistream/2.0.0\n");
    QTest::newRow("no newline") << QByteArray("\x13/multistream/1.0.0x");
    QTest::newRow("too long") << QByteArray::fromHex("8110");
    QTest::newRow("bad varint") << QByteArray(11, '\xff');
    QTest::newRow("http") << QByteArray("GET / HTTP/1.1\r\n").leftJustified(100, 'x');
}

void TestMultistreamSelect::refusesMalformed()
{
    QFETCH(QByteArray, input);
    auto listener = MultistreamSelect::listener(supportsPing);
    listener.feed(input);
    QCOMPARE(listener.state(), MultistreamSelect::State::Failed);
}

void TestMultistreamSelect::boundsProposals()
{
    auto listener = MultistreamSelect::listener(supportsPing);
    listener.feed(MultistreamSelect::message(MultistreamSelect::header));
    for (int i = 0; i <= MultistreamSelect::maxProposals; ++i)
        listener.feed(MultistreamSelect::message("/nope"));
    QCOMPARE(listener.state(), MultistreamSelect::State::Failed);
}

QTEST_GUILESS_MAIN(TestMultistreamSelect)
#include "tst_multistreamselect.moc"
