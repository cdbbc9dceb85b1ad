#include "presencemessage.h"

#include <QTest>

namespace {

QByteArray errorOf(const QByteArray &json)
{
    const auto result = PresenceMessage::parse(json);
    if (const auto *error = std::get_if<PresenceMessage::Error>(&result))
        return error->text;
    return "accepted";
}

PresenceMessage accepted(const QByteArray &json)
{
    auto result = PresenceMessage::parse(json);
    if (auto *message = std::get_if<PresenceMessage>(&result))
        return *message;
    qWarning() << "rejected:" << std::get<PresenceMessage::Error>(result).text;
    return {};
}

} // namespace

class TestPresenceMessage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void errors_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("error");
        const QByteArray badJson = "bad json";
        const QByteArray required = "bad message: type and peerId are required";
        QTest::newRow("empty") << QByteArray() << badJson;
        QTest::newRow("white space") << QByteArray(" \n") << badJson;
        QTest::newRow("not json") << QByteArray("hello") << badJson;
        QTest::newRow("array") << QByteArray("[]") << badJson;
        QTest::newRow("string") << QByteArray("\"x\"") << badJson;
        QTest::newRow("null") << QByteArray("null") << badJson;
        QTest::newRow("truncated") << QByteArray("{\"type\":\"online\"") << badJson;
        QTest::newRow("trailing data")
            << QByteArray("{\"type\":\"online\",\"peerId\":\"a\"} x") << badJson;
        QTest::newRow("two objects") << QByteArray("{}{}") << badJson;
        QTest::newRow("ts string")
            << QByteArray("{\"type\":\"online\",\"peerId\":\"a\",\"ts\":\"5\"}") << badJson;
        QTest::newRow("ts fraction")
            << QByteArray("{\"type\":\"online\",\"peerId\":\"a\",\"ts\":1.5}") << badJson;
        QTest::newRow("ts exponent")
            << QByteArray("{\"type\":\"online\",\"peerId\":\"a\",\"ts\":1e3}") << badJson;
        QTest::newRow("ts overflow")
            << QByteArray("{\"type\":\"online\",\"peerId\":\"a\",\"ts\":9223372036854775808}")
            << badJson;
        QTest::newRow("type number") << QByteArray("{\"type\":1,\"peerId\":\"a\"}") << badJson;
        QTest::newRow("peerId object")
            << QByteArray("{\"type\":\"online\",\"peerId\":{}}") << badJson;
        QTest::newRow("content bool")
            << QByteArray("{\"type\":\"online\",\"peerId\":\"a\",\"content\":true}") << badJson;
        QTest::newRow("bad escape")
            << QByteArray("{\"type\":\"online\",\"peerId\":\"\\x\"}") << badJson;
        QTest::newRow("raw control char")
            << QByteArray("{\"type\":\"online\",\"peerId\":\"a\nb\"}") << badJson;
        QTest::newRow("leading zero")
            << QByteArray("{\"type\":\"online\",\"peerId\":\"a\",\"x\":01}") << badJson;
        QTest::newRow("single quotes") << QByteArray("{'type':'online'}") << badJson;
        QTest::newRow("missing both") << QByteArray("{}") << required;
        QTest::newRow("missing peerId") << QByteArray("{\"type\":\"online\"}") << required;
        QTest::newRow("blank type") << QByteArray("{\"type\":\"  \",\"peerId\":\"a\"}") << required;
        QTest::newRow("blank peerId")
            << QByteArray("{\"type\":\"online\",\"peerId\":\"\\t \"}") << required;
        QTest::newRow("null type") << QByteArray("{\"type\":null,\"peerId\":\"a\"}") << required;
        QTest::newRow("unknown type") << QByteArray("{\"type\":\"bogus\",\"peerId\":\"a\"}")
                                      << QByteArray("bad message: unknown type \"bogus\"");
        QTest::newRow("type case") << QByteArray("{\"type\":\"Online\",\"peerId\":\"a\"}")
                                   << QByteArray("bad message: unknown type \"Online\"");
        QTest::newRow("unknown type quoted")
            << QByteArray("{\"type\":\" a\\\"b\\n \",\"peerId\":\"a\"}")
            << QByteArray("bad message: unknown type \"a\\\"b\"");
        QTest::newRow("peerId 257")
            << ("{\"type\":\"online\",\"peerId\":\"" + QByteArray(257, 'p') + "\"}")
            << QByteArray("bad message: peerId too long");
        QTest::newRow("content 4097") << ("{\"type\":\"online\",\"peerId\":\"a\",\"content\":\"" +
                                          QByteArray(4097, 'c') + "\"}")
                                      << QByteArray("bad message: content too long");
        QTest::newRow("required before type") << QByteArray("{\"type\":\"bogus\"}") << required;
        QTest::newRow("type before length")
            << ("{\"type\":\"x\",\"peerId\":\"" + QByteArray(300, 'p') + "\"}")
            << QByteArray("bad message: unknown type \"x\"");
        // Today's fields (PROTOCOL.md, "Fields the server owns"): their limits, in their order.
        const QByteArray online = "{\"type\":\"online\",\"peerId\":\"a\",";
        const auto addrs = [](int count, int bytes) {
            QByteArrayList list;
            for (int i = 0; i < count; ++i)
                list << '"' + QByteArray(bytes, 'x') + '"';
            return "\"addrs\":[" + list.join(',') + ']';
        };
        QTest::newRow("email 321") << (online + "\"email\":\"" + QByteArray(321, 'e') + "\"}")
                                   << QByteArray("bad message: email too long");
        QTest::newRow("email number") << (online + "\"email\":5}") << badJson;
        QTest::newRow("21 addrs") << (online + addrs(21, 4) + '}')
                                  << QByteArray("bad message: too many addrs");
        QTest::newRow("addr 257") << (online + addrs(1, 257) + '}')
                                  << QByteArray("bad message: addr too long");
        QTest::newRow("addrs string") << (online + "\"addrs\":\"/ip4/1\"}") << badJson;
        QTest::newRow("addr number") << (online + "\"addrs\":[\"/ip4/1\",7]}") << badJson;
        QTest::newRow("content before email")
            << (online + "\"email\":\"" + QByteArray(321, 'e') + "\",\"content\":\"" +
                QByteArray(4097, 'c') + "\"}")
            << QByteArray("bad message: content too long");
        QTest::newRow("email before addrs")
            << (online + addrs(21, 300) + ",\"email\":\"" + QByteArray(321, 'e') + "\"}")
            << QByteArray("bad message: email too long");
        QTest::newRow("count before length")
            << (online + addrs(21, 300) + '}') << QByteArray("bad message: too many addrs");
        QTest::newRow("type errors before limits")
            << (online + addrs(21, 4) + ",\"email\":[]}") << badJson;
        QTest::newRow("punch is the server's")
            << QByteArray("{\"type\":\"punch\",\"peerId\":\"a\"}")
            << QByteArray("bad message: unknown type \"punch\"");
    }
    void errors()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, error);
        QCOMPARE(errorOf(body), error);
    }

    void limitsAreInclusive()
    {
        QCOMPARE(errorOf("{\"type\":\"online\",\"peerId\":\"" + QByteArray(256, 'p') + "\"}"),
                 QByteArray("accepted"));
        QCOMPARE(errorOf("{\"type\":\"online\",\"peerId\":\"a\",\"content\":\"" +
                         QByteArray(4096, 'c') + "\"}"),
                 QByteArray("accepted"));
        // Length counts bytes of the decoded text: 2,048 two-byte characters fit, one more does
        // not.
        const QByteArray e = "\xC3\xA9";
        QCOMPARE(errorOf("{\"type\":\"online\",\"peerId\":\"a\",\"content\":\"" + e.repeated(2048) +
                         "\"}"),
                 QByteArray("accepted"));
        QCOMPARE(errorOf("{\"type\":\"online\",\"peerId\":\"a\",\"content\":\"" + e.repeated(2049) +
                         "\"}"),
                 QByteArray("bad message: content too long"));
    }

    void fields()
    {
        const PresenceMessage m =
            accepted("{\"type\":\" update "
                     "\",\"peerId\":\"12D3KooWx\",\"content\":\"caf\\u00e9\",\"ts\":-5}");
        QCOMPARE(m.type, PresenceMessage::Type::Update);
        QCOMPARE(m.peerId, QByteArray("12D3KooWx"));
        QCOMPARE(m.content, QByteArray("caf\xC3\xA9"));
        QCOMPARE(m.ts, qint64(-5));
        QVERIFY(m.extraMembers.isEmpty());
        QCOMPARE(accepted("{\"type\":\"online\",\"peerId\":\"a\",\"ts\":null,\"content\":null}").ts,
                 qint64(0));
    }

    void keysMatchLikeGo()
    {
        // Go's decoder matches keys to fields without regard to case; the last one wins.
        const PresenceMessage m =
            accepted("{\"TYPE\":\"online\",\"PeerID\":\"a\",\"peerId\":\"b\",\"Ts\":7}");
        QCOMPARE(m.peerId, QByteArray("b"));
        QCOMPARE(m.ts, qint64(7));
        QVERIFY(m.extraMembers.isEmpty());
        QCOMPARE(accepted("{\"t\\u0079pe\":\"online\",\"peerId\":\"a\"}").type,
                 PresenceMessage::Type::Online);
    }

    void todaysLimitsAreInclusive()
    {
        QByteArrayList twenty;
        for (int i = 0; i < 20; ++i)
            twenty << '"' + QByteArray(256, 'a') + '"';
        QCOMPARE(errorOf("{\"type\":\"online\",\"peerId\":\"a\",\"email\":\"" +
                         QByteArray(320, 'e') + "\",\"addrs\":[" + twenty.join(',') +
                         "],\"Email\":null}"),
                 QByteArray("accepted"));
        QCOMPARE(errorOf("{\"type\":\"online\",\"peerId\":\"a\",\"addrs\":null,\"email\":null}"),
                 QByteArray("accepted"));
    }

    void serverOwnedFieldsAreDropped()
    {
        // The token is a credential: whatever its spelling (Go matches keys without regard to
        // case), it never reaches the stored or sent message; nor do `verified` or `target`.
        const PresenceMessage m = accepted(
            "{\"type\":\"online\",\"verificationToken\":\"SECRET-1\",\"peerId\":\"p\","
            "\"VerificationTOKEN\":\"SECRET-2\",\"verified\":true,\"target\":\"q\","
            "\"Target\":{\"x\":\"SECRET-3\"},\"email\":\"a@b.c\",\"verificationToken\":null}");
        QCOMPARE(m.extraMembers, QByteArray("\"email\":\"a@b.c\""));
        QVERIFY(!m.verified);
        QCOMPARE(m.toJson(),
                 QByteArray("{\"type\":\"online\",\"peerId\":\"p\",\"ts\":0,\"email\":\"a@b.c\"}"));
        QVERIFY(!m.toJson().contains("SECRET"));
    }

    void serverWrittenVerifiedIsKept()
    {
        PresenceMessage m = accepted("{\"type\":\"update\",\"peerId\":\"p\",\"ts\":3}");
        m.verified = true;
        const QByteArray json = m.toJson();
        QCOMPARE(json,
                 QByteArray("{\"type\":\"update\",\"peerId\":\"p\",\"ts\":3,\"verified\":true}"));
        const auto readBack = PresenceMessage::parse(json, PresenceMessage::Source::Server);
        QVERIFY(std::get<PresenceMessage>(readBack).verified);
        QVERIFY(!std::get<PresenceMessage>(PresenceMessage::parse(json)).verified);
        QCOMPARE(std::get<PresenceMessage>(readBack).toJson(), json);
    }

    void unknownFieldsPassThrough()
    {
        const PresenceMessage m =
            accepted("{ \"type\" : \"online\", \"email\":\"a@b.c\",\"peerId\":\"p\", \"addrs\" : [ "
                     "\"/ip4/1.2.3.4/tcp/1\" ,\n"
                     " \"/ip6/::1\" ], \"nested\": {\"k\": [1, 2.5e3, true, null, \"x y\"]}, "
                     "\"big\": 123456789012345678901234567890 }");
        QCOMPARE(m.extraMembers,
                 QByteArray("\"email\":\"a@b.c\",\"addrs\":[\"/ip4/1.2.3.4/tcp/1\",\"/ip6/::1\"],"
                            "\"nested\":{\"k\":[1,2.5e3,true,null,\"x "
                            "y\"]},\"big\":123456789012345678901234567890"));
        QCOMPARE(m.toJson(), QByteArray("{\"type\":\"online\",\"peerId\":\"p\",\"ts\":0,\"email\":"
                                        "\"a@b.c\",\"addrs\":[\"/ip4/1.2.3.4/tcp/1\","
                                        "\"/ip6/::1\"],\"nested\":{\"k\":[1,2.5e3,true,null,\"x "
                                        "y\"]},\"big\":123456789012345678901234567890}"));
    }

    void serializesLikeGo()
    {
        PresenceMessage m = accepted(
            "{\"type\":\"online\",\"peerId\":\"p<1>\",\"content\":\"a&b\",\"ts\":1732460000000}");
        QCOMPARE(m.toJson(), QByteArray("{\"type\":\"online\",\"peerId\":\"p\\u003c1\\u003e\","
                                        "\"content\":\"a\\u0026b\",\"ts\":1732460000000}"));
        m.content.clear();
        QCOMPARE(m.toJson(),
                 QByteArray(
                     "{\"type\":\"online\",\"peerId\":\"p\\u003c1\\u003e\",\"ts\":1732460000000}"));
    }

    void surrogatePairs()
    {
        QCOMPARE(accepted("{\"type\":\"online\",\"peerId\":\"\\ud83d\\ude00\"}").peerId,
                 QByteArray("\xF0\x9F\x98\x80"));
        QCOMPARE(accepted("{\"type\":\"online\",\"peerId\":\"x\\ud83d\"}").peerId,
                 QByteArray("x\xEF\xBF\xBD"));
    }
};

QTEST_APPLESS_MAIN(TestPresenceMessage)
#include "tst_presencemessage.moc"
