// JsonReader's decoders are safe on any bytes, not only on text readObject() validated: a
// broken string is nullopt, never a read past its end (run under ASan, or fuzz_json, to see).
#include "jsonreader.h"

#include <QTest>

class TestJsonReader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void brokenStringsAreRefused_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::newRow("short \\u") << QByteArray("\"\\u12\"");
        QTest::newRow("\\u at the end") << QByteArray("\"ab\\u\"");
        QTest::newRow("\\u not hex") << QByteArray("\"\\u12G4\"");
        QTest::newRow("trailing backslash") << QByteArray("\"abc\\\"");
        QTest::newRow("unterminated") << QByteArray("\"abc");
        QTest::newRow("unknown escape") << QByteArray("\"\\x41\"");
        QTest::newRow("one quote") << QByteArray("\"");
    }
    void brokenStringsAreRefused()
    {
        QFETCH(QByteArray, value);
        // Copied into a buffer of its own exact size, so that a read past it is a real overrun.
        const std::unique_ptr<char[]> exact(new char[size_t(value.size())]);
        std::memcpy(exact.get(), value.constData(), size_t(value.size()));
        QCOMPARE(JsonReader::decodeString(QByteArrayView(exact.get(), value.size())),
                 std::optional<QByteArray>());
        JsonReader::compact(QByteArrayView(exact.get(), value.size())); // must not overrun
    }

    void goodStringsStillDecode()
    {
        QCOMPARE(*JsonReader::decodeString("\"a\\u00e9\\ud83d\\ude00\\n\\/\""),
                 QByteArray("a\xC3\xA9\xF0\x9F\x98\x80\n/"));
        QCOMPARE(JsonReader::compact("{ \"a\" : [1, \"b c\"] }"),
                 QByteArray("{\"a\":[1,\"b c\"]}"));
    }
};

QTEST_GUILESS_MAIN(TestJsonReader)
#include "tst_jsonreader.moc"
