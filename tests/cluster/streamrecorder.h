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
    };

    StreamRecorder(quint16 port, const QElapsedTimer &clock, QObject *parent = nullptr);
    ~StreamRecorder() override;

    // Connects, asks for /events and runs the event loop until `: ok` arrived.
    bool open(int timeoutMs = 5000);
    bool isConnected() const;
    quint16 port() const { return m_port; }

    const QList<Received> &events() const { return m_events; }
    QList<QByteArray> data() const;

Q_SIGNALS:
    void eventReceived();

private:
    void onReadyRead();

    quint16 m_port;
    const QElapsedTimer &m_clock;
    QTcpSocket *m_socket;
    QByteArray m_head;
    bool m_headDone = false;
    SseParser m_parser;
    QList<Received> m_events;
};
