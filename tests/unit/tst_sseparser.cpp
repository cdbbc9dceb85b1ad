#include "sseframe.h"
#include "sseparser.h"

#include <QTest>

namespace {

QList<SseParser::Event> feedInChunks(const QByteArray &stream, int chunkSize, SseParser &parser)
{
    QList<SseParser::Event> events;
    for (qsizetype i = 0; i < stream.size(); i += chunkSize)
        events += parser.feed(
            QByteArrayView(stream).sliced(i, qMin<qsizetype>(chunkSize, stream.size() - i)));
    return events;
}

} // namespace

class TestSseParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void anyChunking_data()
    {
        QTest::addColumn<int>("chunkSize");
        for (int size : {1, 2, 3, 5, 7, 13, 64, 4096})
            QTest::addRow("chunks of %d", size) << size;
    }
    void anyChunking()
    {
        QFETCH(int, chunkSize);
        const QByteArray stream =
            SseFrame::hello + SseFrame::data("{\"type\":\"online\",\"peerId\":\"a\"}") +
            SseFrame::ping + SseFrame::data("{\"type\":\"offline\",\"peerId\":\"\xC3\xA9\"}");
        SseParser parser;
        const auto events = feedInChunks(stream, chunkSize, parser);
        QCOMPARE(events.size(), 2);
        QCOMPARE(events[0].data, QByteArray("{\"type\":\"online\",\"peerId\":\"a\"}"));
        QCOMPARE(events[0].type, QByteArray("message"));
        QCOMPARE(events[1].data, QByteArray("{\"type\":\"offline\",\"peerId\":\"\xC3\xA9\"}"));
        QCOMPARE(parser.commentCount(), 2);
        QCOMPARE(parser.lastComment(), QByteArray("ping"));
    }

    void lineEndings_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::newRow("lf") << QByteArray("data: x\n\ndata: y\n\n");
        QTest::newRow("crlf") << QByteArray("data: x\r\n\r\ndata: y\r\n\r\n");
        QTest::newRow("cr") << QByteArray("data: x\r\rdata: y\r\r");
        QTest::newRow("mixed") << QByteArray("data: x\r\n\ndata: y\r\r\n");
    }
    void lineEndings()
    {
        QFETCH(QByteArray, stream);
        for (int chunk : {1, 2, 100}) {
            SseParser parser;
            const auto events = feedInChunks(stream, chunk, parser);
            QCOMPARE(events.size(), 2);
            QCOMPARE(events[0].data, QByteArray("x"));
            QCOMPARE(events[1].data, QByteArray("y"));
        }
    }

    void fields()
    {
        SseParser parser;
        const auto events = parser.feed("\xEF\xBB\xBF"
                                        "event: peer\nid: 7\ndata: a\ndata:b\ndata\nretry: 10\n\n"
                                        "data: c\n\n"
                                        "event: x\n\n"
                                        "data: incomplete");
        QCOMPARE(events.size(), 2);
        QCOMPARE(events[0].type, QByteArray("peer"));
        QCOMPARE(events[0].id, QByteArray("7"));
        QCOMPARE(events[0].data, QByteArray("a\nb\n"));
        QCOMPARE(events[1].type, QByteArray("message"));
        QCOMPARE(events[1].id, QByteArray("7")); // the last event ID persists
        QCOMPARE(events[1].data, QByteArray("c"));
        QCOMPARE(parser.feed("\n\n").size(), 1);
    }

    void bomSplitAcrossChunks()
    {
        SseParser parser;
        QVERIFY(parser.feed("\xEF").isEmpty());
        QVERIFY(parser.feed("\xBB").isEmpty());
        const auto events = parser.feed("\xBF"
                                        "data: z\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QByteArray("z"));
    }
};

QTEST_APPLESS_MAIN(TestSseParser)
#include "tst_sseparser.moc"
