#include "sseclient.h"

#include <QDeadlineTimer>
#include <QTcpSocket>

SseClient::SseClient(quint16 port, QByteArray target, QByteArray extraHeaders)
    : m_port(port), m_target(std::move(target)), m_extraHeaders(std::move(extraHeaders)),
      m_socket(new QTcpSocket)
{}

SseClient::~SseClient()
{
    delete m_socket;
}

bool SseClient::open(int timeoutMs)
{
    m_socket->connectToHost(QHostAddress::LocalHost, m_port);
    if (!m_socket->waitForConnected(timeoutMs))
        return false;
    m_socket->write("GET " + m_target +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" +
                    m_extraHeaders + "\r\n");
    QDeadlineTimer deadline(timeoutMs);
    QByteArray buffer;
    while (!buffer.contains("\r\n\r\n")) {
        if (deadline.hasExpired() || !m_socket->waitForReadyRead(static_cast<int>(
                                         qMax<qint64>(1, deadline.remainingTime()))))
            return false;
        buffer += m_socket->readAll();
    }
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n") + 4;
    m_head = buffer.left(headEnd);
    const QByteArray rest = buffer.mid(headEnd);
    m_body += rest;
    m_events += m_parser.feed(rest);
    while (m_parser.commentCount() == 0 &&
           readSome(static_cast<int>(qMax<qint64>(1, deadline.remainingTime())))) {
    }
    return m_parser.commentCount() > 0;
}

bool SseClient::readSome(int timeoutMs)
{
    if (m_socket->bytesAvailable() == 0 && !m_socket->waitForReadyRead(timeoutMs))
        return false;
    const QByteArray chunk = m_socket->readAll();
    m_body += chunk;
    m_events += m_parser.feed(chunk);
    return true;
}

int SseClient::waitForEvents(int count, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (m_events.size() < count && !deadline.hasExpired())
        readSome(static_cast<int>(qMax<qint64>(1, deadline.remainingTime())));
    return static_cast<int>(m_events.size());
}

bool SseClient::waitForClose(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (m_socket->state() == QAbstractSocket::ConnectedState && !deadline.hasExpired())
        readSome(static_cast<int>(qMax<qint64>(1, deadline.remainingTime())));
    return m_socket->state() != QAbstractSocket::ConnectedState;
}

void SseClient::readFor(int ms)
{
    QDeadlineTimer deadline(ms);
    while (!deadline.hasExpired())
        readSome(static_cast<int>(qMax<qint64>(1, deadline.remainingTime())));
}
