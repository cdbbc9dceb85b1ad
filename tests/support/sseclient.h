#pragma once

#include "sseparser.h"

#include <QByteArray>
#include <QList>

class QTcpSocket;

// Follows GET /events on one connection and records the raw bytes and the parsed events.
class SseClient
{
public:
    // `target` and `extraHeaders` ("Name: value\r\n" lines) shape the request.
    explicit SseClient(quint16 port, QByteArray target = "/events", QByteArray extraHeaders = {});
    ~SseClient();

    // Connects and reads the response head and the first `: ok`; false otherwise.
    bool open(int timeoutMs = 5000);

    // Reads until at least `count` events arrived in all (or the time is up); returns the count.
    int waitForEvents(int count, int timeoutMs = 5000);
    // Reads until the server closes the stream; true if it did.
    bool waitForClose(int timeoutMs);
    // Reads for `ms` milliseconds whatever comes.
    void readFor(int ms);

    QByteArray responseHead() const { return m_head; }
    QByteArray body() const { return m_body; } // everything after the head
    const QList<SseParser::Event> &events() const { return m_events; }
    const SseParser &parser() const { return m_parser; }
    QTcpSocket *socket() const { return m_socket; }

private:
    bool readSome(int timeoutMs);

    quint16 m_port;
    QByteArray m_target;
    QByteArray m_extraHeaders;
    QTcpSocket *m_socket;
    QByteArray m_head;
    QByteArray m_body;
    SseParser m_parser;
    QList<SseParser::Event> m_events;
};
