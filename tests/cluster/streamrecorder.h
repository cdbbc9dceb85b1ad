#pragma once

#include "sseparser.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QObject>

class QTcpSocket;

// Follows GET /events in the event loop and stamps each event with the time it was read, on a
// clock shared with the test, so that several streams can be watched at once and delivery
// latency measured without one blocking read delaying the others.
class StreamRecorder : public QObject
{
    Q_OBJECT

public:
    struct Received
    {
        QByteArray data;
        qint64 atNs = 0; // on the shared clock
        QByteArray id;
        QByteArray type; // "message" for a presence event
    };

    StreamRecorder(quint16 port, const QElapsedTimer &clock, QObject *parent = nullptr);
    ~StreamRecorder() override;

    // Connects, asks for /events (with `extraHeaders`, "Name: value\r\n" lines) and runs the
    // event loop until `: ok` arrived.
    bool open(int timeoutMs = 5000, const QByteArray &extraHeaders = {});
    void close();
    bool isConnected() const;
    quint16 port() const { return m_port; }

    const QList<Received> &events() const { return m_events; }
    QList<QByteArray> data() const; // of the presence events, in order

Q_SIGNALS:
    void eventReceived();

private:
    void onReadyRead();
    QByteArray unchunk(QByteArrayView bytes);

    quint16 m_port;
    const QElapsedTimer &m_clock;
    QTcpSocket *m_socket;
    QByteArray m_head;
    bool m_headDone = false;
    SseParser m_parser;
    QList<Received> m_events;
    // Through a proxy the stream may come chunked (Transfer-Encoding): what is left of the
    // current chunk, and the bytes of an unfinished chunk-size line.
    bool m_chunked = false;
    qint64 m_chunkLeft = 0;
    QByteArray m_chunkLine;
};
