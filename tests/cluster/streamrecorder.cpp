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

bool StreamRecorder::open(int timeoutMs, const QByteArray &extraHeaders)
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
    connect(m_socket, &QTcpSocket::connected, this, [this, extraHeaders] {
        m_socket->write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" +
                        extraHeaders + "\r\n");
    });
    m_socket->connectToHost(QHostAddress::LocalHost, m_port);
    timeout.start(timeoutMs);
    loop.exec();
    return m_headDone && m_parser.commentCount() > 0 && m_head.startsWith("HTTP/1.1 200");
}

QByteArray StreamRecorder::unchunk(QByteArrayView bytes)
{
    // Each chunk: its size in hex and CRLF, the bytes, CRLF.
    QByteArray out;
    while (!bytes.isEmpty()) {
        if (m_chunkLeft > 0) {
            const qint64 take = qMin<qint64>(m_chunkLeft, bytes.size());
            out += bytes.first(take);
            bytes = bytes.sliced(take);
            m_chunkLeft -= take;
            continue;
        }
        const qsizetype end = bytes.indexOf('\n');
        m_chunkLine += (end < 0 ? bytes : bytes.first(end + 1));
        bytes = end < 0 ? QByteArrayView() : bytes.sliced(end + 1);
        if (end < 0)
            break;
        const QByteArray size = m_chunkLine.trimmed();
        m_chunkLine.clear();
        if (!size.isEmpty()) // the empty line that ends the chunk before
            m_chunkLeft = size.toLongLong(nullptr, 16);
    }
    return out;
}

void StreamRecorder::close()
{
    m_socket->abort();
}

bool StreamRecorder::isConnected() const
{
    return m_socket->state() == QAbstractSocket::ConnectedState;
}

QList<QByteArray> StreamRecorder::data() const
{
    QList<QByteArray> all;
    all.reserve(m_events.size());
    for (const Received &event : m_events) {
        if (event.type == "message")
            all.append(event.data);
    }
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
        m_chunked = m_head.toLower().contains("transfer-encoding: chunked");
    }
    if (m_chunked)
        chunk = unchunk(chunk);
    const QList<SseParser::Event> events = m_parser.feed(chunk);
    for (const SseParser::Event &event : events)
        m_events.append({event.data, now, event.id, event.type});
    if (!events.isEmpty())
        Q_EMIT eventReceived();
}
