#include "streamrecorder.h"

#include <QEventLoop>
#include <QTcpSocket>
#include <QTimer>

StreamRecorder::StreamRecorder(quint16 port, const QElapsedTimer &clock, QObject *parent)
    : QObject(parent), m_port(port), m_clock(clock), m_socket(new QTcpSocket(this))
{
    connect(m_socket, &QTcpSocket::readyRead, this, &StreamRecorder::onReadyRead);
}

StreamRecorder::~StreamRecorder() = default;

bool StreamRecorder::open(int timeoutMs)
{
    QEventLoop loop;
    QTimer timeout;
    timeout.setSingleShot(true);
    connect(&timeout, &QTimer::timeout, &loop, &QEventLoop::quit);
    connect(m_socket, &QTcpSocket::readyRead, &loop, [&] {
        if (m_parser.commentCount() > 0)
            loop.quit();
    });
    connect(m_socket, &QTcpSocket::disconnected, &loop, &QEventLoop::quit);
    connect(m_socket, &QTcpSocket::errorOccurred, &loop, &QEventLoop::quit);
    connect(m_socket, &QTcpSocket::connected, this, [this] {
        m_socket->write(
            "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
    });
    m_socket->connectToHost(QHostAddress::LocalHost, m_port);
    timeout.start(timeoutMs);
    loop.exec();
    return m_headDone && m_parser.commentCount() > 0 && m_head.startsWith("HTTP/1.1 200");
}

bool StreamRecorder::isConnected() const
{
    return m_socket->state() == QAbstractSocket::ConnectedState;
}

QList<QByteArray> StreamRecorder::data() const
{
    QList<QByteArray> all;
    all.reserve(m_events.size());
    for (const Received &event : m_events)
        all.append(event.data);
    return all;
}

void StreamRecorder::onReadyRead()
{
    const qint64 now = m_clock.nsecsElapsed();
    QByteArray chunk = m_socket->readAll();
    if (!m_headDone) {
        m_head += chunk;
        const qsizetype end = m_head.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        m_headDone = true;
        chunk = m_head.mid(end + 4);
        m_head.truncate(end + 4);
    }
    const QList<SseParser::Event> events = m_parser.feed(chunk);
    for (const SseParser::Event &event : events)
        m_events.append({event.data, now});
    if (!events.isEmpty())
        Q_EMIT eventReceived();
}
