#include "jsonwriter.h"
#include "textquote.h"

#include <QTest>

class TestJsonWriter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void escapesLikeGo_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("expected");
        // Expected bytes are what Go's json.Marshal writes for the same string.
        QTest::newRow("plain") << QByteArray("peer-1") << QByteArray("\"peer-1\"");
        QTest::newRow("html") << QByteArray("<b>&</b>")
                              << QByteArray("\"\\u003cb\\u003e\\u0026\\u003c/b\\u003e\"");
        QTest::newRow("quote and backslash")
            << QByteArray("a\"b\\c") << QByteArray("\"a\\\"b\\\\c\"");
        QTest::newRow("newline tab cr")
            << QByteArray("a\nb\tc\rd") << QByteArray("\"a\\nb\\tc\\rd\"");
        QTest::newRow("other controls")
            << QByteArray("\x01\x08\x0c\x1f", 4) << QByteArray("\"\\u0001\\u0008\\u000c\\u001f\"");
        QTest::newRow("unicode kept") << QByteArray("h\xC3\xA9llo \xF0\x9F\x98\x80")
                                      << QByteArray("\"h\xC3\xA9llo \xF0\x9F\x98\x80\"");
        QTest::newRow("line separators")
            << QByteArray("\xE2\x80\xA8\xE2\x80\xA9") << QByteArray("\"\\u2028\\u2029\"");
        QTest::newRow("invalid utf8") << QByteArray("a\xFF"
                                                    "b")
                                      << QByteArray("\"a\\ufffdb\"");
        QTest::newRow("truncated sequence")
            << QByteArray("\xE2\x82") << QByteArray("\"\\ufffd\\ufffd\"");
        QTest::newRow("slash and del") << QByteArray("/\x7f") << QByteArray("\"/\x7f\"");
    }
    void escapesLikeGo()
    {
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, expected);
        QByteArray out;
        JsonWriter::appendString(out, input);
        QCOMPARE(out, expected);
    }

    void integers()
    {
        QByteArray out;
        JsonWriter::appendInteger(out, 0);
        out += ' ';
        JsonWriter::appendInteger(out, -42);
        out += ' ';
        JsonWriter::appendInteger(out, std::numeric_limits<qint64>::min());
        out += ' ';
        JsonWriter::appendInteger(out, std::numeric_limits<qint64>::max());
        QCOMPARE(out, QByteArray("0 -42 -9223372036854775808 9223372036854775807"));
    }

    void goQuoting()
    {
        QCOMPARE(goQuoted("bogus"), QByteArray("\"bogus\""));
        QCOMPARE(goQuoted("a\"b\\"), QByteArray("\"a\\\"b\\\\\""));
        QCOMPARE(goQuoted(QByteArray("a\nb\x01", 4)), QByteArray("\"a\\nb\\x01\""));
        QCOMPARE(goQuoted("\xC3\xA9\xE2\x80\x8B"), QByteArray("\"\xC3\xA9\\u200b\""));
        // Plain ASCII as it is, the edges of it escaped, alone and among other text.
        QCOMPARE(goQuoted(" ~12D3KooW"), QByteArray("\" ~12D3KooW\""));
        QCOMPARE(goQuoted("a\x7F"), QByteArray("\"a\\x7f\""));
        QCOMPARE(goQuoted("n\xC3\xA9 \"x\"\t"), QByteArray("\"n\xC3\xA9 \\\"x\\\"\\t\""));
        QCOMPARE(goQuoted(""), QByteArray("\"\""));
    }
};

QTEST_APPLESS_MAIN(TestJsonWriter)
#include "tst_jsonwriter.moc"
