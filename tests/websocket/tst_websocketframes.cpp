// RFC 6455 framing and the opening handshake, byte by byte: what clients may send (masked,
// fragmented, control frames between fragments) and every way a frame can be wrong.
#include "websocket/websocketframes.h"
#include "websocket/websockethandshake.h"

#include <QTest>

namespace {

using Item = WebSocketReader::Item;

// A client frame: masked with a fixed key, as RFC 6455 5.1 requires of clients.
QByteArray clientFrame(quint8 firstByte, QByteArrayView payload, bool masked = true)
{
    QByteArray out;
    out.append(char(firstByte));
    const quint8 mask = masked ? 0x80 : 0;
    if (payload.size() <= 125) {
        out.append(char(mask | payload.size()));
    } else if (payload.size() <= 0xFFFF) {
        out.append(char(mask | 126));
        out.append(char(payload.size() >> 8)).append(char(payload.size() & 0xFF));
    } else {
        out.append(char(mask | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            out.append(char((quint64(payload.size()) >> shift) & 0xFF));
    }
    const char key[4] = {0x12, 0x34, 0x56, 0x78};
    if (masked)
        out.append(key, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        out.append(masked ? char(payload[i] ^ key[i % 4]) : payload[i]);
    return out;
}

QList<Item> readAll(QByteArrayView bytes, qsizetype maxMessage = 64 * 1024)
{
    WebSocketReader reader(maxMessage);
    return reader.read(bytes);
}

} // namespace

Q_DECLARE_METATYPE(Item::Kind)

class TestWebSocketFrames : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void serverFramesAreUnmaskedAndSized()
    {
        QCOMPARE(WebSocketFrames::text("hi"), QByteArray("\x81\x02hi"));
        QCOMPARE(WebSocketFrames::text(QByteArray(126, 'a')).left(4),
                 QByteArray("\x81\x7e\x00\x7e", 4));
        QCOMPARE(WebSocketFrames::text(QByteArray(70000, 'a')).left(10),
                 QByteArray("\x81\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
        QCOMPARE(WebSocketFrames::ping(), QByteArray("\x89\x00", 2));
        QCOMPARE(WebSocketFrames::close(1000, "probe-ok"), QByteArray("\x88\x0a\x03\xe8probe-ok"));
    }

    void textMessageSplitAnywhere()
    {
        const QByteArray message = "{\"type\":\"update\",\"peerId\":\"p\"}";
        const QByteArray bytes =
            clientFrame(0x81, message) + clientFrame(0x81, QByteArray(300, 'x'));
        for (qsizetype split = 0; split <= bytes.size(); ++split) {
            WebSocketReader reader;
            QList<Item> items = reader.read(bytes.first(split));
            items += reader.read(bytes.sliced(split));
            QCOMPARE(items.size(), 2);
            QCOMPARE(items[0].kind, Item::Kind::Text);
            QCOMPARE(items[0].payload, message);
            QCOMPARE(items[1].payload, QByteArray(300, 'x'));
            QCOMPARE(reader.buffered(), 0);
        }
    }

    void fragmentsWithControlFramesBetween()
    {
        const QList<Item> items =
            readAll(clientFrame(0x01, "{\"a\":") + clientFrame(0x89, "p1") +
                    clientFrame(0x00, "1") + clientFrame(0x8A, "") + clientFrame(0x80, "}"));
        QCOMPARE(items.size(), 3);
        QCOMPARE(items[0].kind, Item::Kind::Ping);
        QCOMPARE(items[0].payload, QByteArray("p1"));
        QCOMPARE(items[1].kind, Item::Kind::Pong);
        QCOMPARE(items[2].kind, Item::Kind::Text);
        QCOMPARE(items[2].payload, QByteArray("{\"a\":1}"));
    }

    void closeIsEchoed()
    {
        QByteArray payload("\x0f\xa0", 2); // 4000
        payload += "bye";
        QList<Item> items = readAll(clientFrame(0x88, payload) + clientFrame(0x81, "after"));
        QCOMPARE(items.size(), 1); // nothing is read after a close
        QCOMPARE(items[0].kind, Item::Kind::Close);
        QCOMPARE(items[0].code, quint16(4000));
        items = readAll(clientFrame(0x88, ""));
        QCOMPARE(items[0].code, quint16(1000));
    }

    void errors_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("code");
        QTest::addColumn<qsizetype>("maxMessage");
        const qsizetype cap = 64 * 1024;
        QTest::newRow("unmasked") << clientFrame(0x81, "x", false) << 1002 << cap;
        QTest::newRow("rsv1 (no extension agreed)") << clientFrame(0xC1, "x") << 1002 << cap;
        QTest::newRow("reserved opcode 3") << clientFrame(0x83, "x") << 1002 << cap;
        QTest::newRow("reserved control opcode") << clientFrame(0x8B, "x") << 1002 << cap;
        QTest::newRow("fragmented ping") << clientFrame(0x09, "x") << 1002 << cap;
        QTest::newRow("ping over 125 bytes")
            << clientFrame(0x89, QByteArray(126, 'p')) << 1002 << cap;
        QTest::newRow("continuation first") << clientFrame(0x80, "x") << 1002 << cap;
        QTest::newRow("new message inside one")
            << clientFrame(0x01, "a") + clientFrame(0x81, "b") << 1002 << cap;
        QTest::newRow("invalid utf-8") << clientFrame(0x81, "\xC3\x28") << 1007 << cap;
        QTest::newRow("utf-8 split over fragments is fine, broken is not")
            << clientFrame(0x01, "\xC3") + clientFrame(0x80, "\x28") << 1007 << cap;
        QTest::newRow("frame over the cap")
            << clientFrame(0x81, QByteArray(101, 'x')) << 1009 << qsizetype(100);
        QTest::newRow("fragments over the cap")
            << clientFrame(0x01, QByteArray(60, 'x')) + clientFrame(0x80, QByteArray(60, 'x'))
            << 1009 << qsizetype(100);
        QTest::newRow("close with one byte") << clientFrame(0x88, "\x03") << 1002 << cap;
        QTest::newRow("close code 1005 on the wire")
            << clientFrame(0x88, QByteArray("\x03\xed", 2)) << 1002 << cap;
    }
    void errors()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(int, code);
        QFETCH(qsizetype, maxMessage);
        const QList<Item> items = readAll(bytes, maxMessage);
        QVERIFY(!items.isEmpty());
        QCOMPARE(items.last().kind, Item::Kind::Error);
        QCOMPARE(items.last().code, quint16(code));
    }

    void hugeLengthIsRefusedBeforeItArrives()
    {
        // 2^62 bytes announced: refused on the header alone, nothing held.
        QByteArray header("\x81\xff\x40\x00\x00\x00\x00\x00\x00\x00\x12\x34\x56\x78", 14);
        WebSocketReader reader;
        const QList<Item> items = reader.read(header);
        QCOMPARE(items.size(), 1);
        QCOMPARE(items[0].code, quint16(1009));
        QCOMPARE(reader.buffered(), 0);
    }

    void utf8AcrossFragmentsIsWhole()
    {
        const QList<Item> items = readAll(clientFrame(0x01, "caf\xC3") + clientFrame(0x80, "\xA9"));
        QCOMPARE(items.size(), 1);
        QCOMPARE(items[0].payload, QByteArray("caf\xC3\xA9"));
    }

    void acceptKeyOfRfc6455()
    {
        QCOMPARE(WebSocketHandshake::acceptKey("dGhlIHNhbXBsZSBub25jZQ=="),
                 QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    }

    void handshake_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("headers");
        QTest::addColumn<int>("status"); // 0: valid
        const QByteArray good =
            "Host: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        QTest::newRow("valid") << QByteArray("GET") << good << 0;
        QTest::newRow("case-insensitive")
            << QByteArray("GET")
            << good.toLower().replace("dghlihnhbxbszsbub25jzq==", "dGhlIHNhbXBsZSBub25jZQ==") << 0;
        QTest::newRow("POST") << QByteArray("POST") << good << 405;
        QTest::newRow("no Upgrade")
            << QByteArray("GET") << QByteArray(good).replace("Upgrade: websocket\r\n", "") << 400;
        QTest::newRow("no Connection: upgrade")
            << QByteArray("GET") << QByteArray(good).replace("keep-alive, Upgrade", "keep-alive")
            << 400;
        QTest::newRow("version 8")
            << QByteArray("GET") << QByteArray(good).replace("Version: 13", "Version: 8") << 400;
        QTest::newRow("short key")
            << QByteArray("GET") << QByteArray(good).replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=")
            << 400;
        QTest::newRow("no key") << QByteArray("GET")
                                << QByteArray(good).replace(
                                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")
                                << 400;
    }
    void handshake()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, headers);
        QFETCH(int, status);
        const auto result = WebSocketHandshake::validate(method, headers);
        if (status == 0) {
            QCOMPARE(std::get<QByteArray>(result), QByteArray("dGhlIHNhbXBsZSBub25jZQ=="));
        } else {
            QVERIFY(std::holds_alternative<WebSocketHandshake::Refusal>(result));
            QCOMPARE(std::get<WebSocketHandshake::Refusal>(result).status, status);
        }
    }

    void query()
    {
        auto q = WebSocketHandshake::readQuery("/ws?peer_id=12D3KooW%2Fx&x=1");
        QCOMPARE(q.peerId, QByteArray("12D3KooW/x"));
        QVERIFY(!q.probe);
        q = WebSocketHandshake::readQuery("/ws?probe=1");
        QVERIFY(q.probe);
        QVERIFY(q.peerId.isEmpty());
        QVERIFY(WebSocketHandshake::readQuery("/ws").peerId.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestWebSocketFrames)
#include "tst_websocketframes.moc"
