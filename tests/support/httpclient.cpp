#include "httpclient.h"

#include <QDeadlineTimer>
#include <QTcpSocket>

QByteArray HttpClient::Response::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers)
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    return {};
}

bool HttpClient::Response::hasHeader(QByteArrayView name) const
{
    for (const auto &header : headers)
        if (header.first.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

HttpClient::HttpClient(quint16 port, const QHostAddress &from)
    : m_port(port), m_from(from), m_socket(new QTcpSocket)
{}

HttpClient::~HttpClient()
{
    delete m_socket;
}

bool HttpClient::ensureConnected()
{
    if (m_socket->state() == QAbstractSocket::ConnectedState)
        return true;
    m_socket->abort();
    m_buffer.clear();
    if (!m_from.isNull())
        m_socket->bind(m_from);
    m_socket->connectToHost(QHostAddress::LocalHost, m_port);
    return m_socket->waitForConnected(5000);
}

HttpClient::Response HttpClient::request(const QByteArray &method, const QByteArray &path,
                                         const QByteArray &body, const QByteArray &extraHeaders)
{
    QByteArray bytes = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extraHeaders;
    if (!body.isEmpty() || method == "POST")
        bytes += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    bytes += "\r\n" + body;
    if (!ensureConnected())
        return {};
    m_socket->write(bytes);
    return readResponse(method == "HEAD", 5000);
}

HttpClient::Response HttpClient::raw(const QByteArray &bytes, int timeoutMs)
{
    if (!ensureConnected())
        return {};
    m_socket->write(bytes);
    m_socket->flush();
    return readResponse(false, timeoutMs);
}

bool HttpClient::waitForClose(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (m_socket->state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        m_socket->waitForReadyRead(static_cast<int>(qMax<qint64>(1, deadline.remainingTime())));
        m_buffer += m_socket->readAll();
    }
    return m_socket->state() != QAbstractSocket::ConnectedState;
}

HttpClient::Response HttpClient::readResponse(bool headRequest, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    const auto fill = [&] {
        if (deadline.hasExpired())
            return false;
        if (m_socket->bytesAvailable() == 0 && !m_socket->waitForReadyRead(static_cast<int>(
                                                   qMax<qint64>(1, deadline.remainingTime()))))
            return false;
        m_buffer += m_socket->readAll();
        return true;
    };
    qsizetype headEnd;
    while ((headEnd = m_buffer.indexOf("\r\n\r\n")) < 0)
        if (!fill())
            return {};
    Response response;
    const QList<QByteArray> lines = m_buffer.left(headEnd).split('\n');
    response.statusLine = lines.first().trimmed();
    response.status = response.statusLine.split(' ').value(1).toInt();
    for (const QByteArray &line : lines.mid(1)) {
        const qsizetype colon = line.indexOf(':');
        response.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    m_buffer.remove(0, headEnd + 4);
    qsizetype length =
        headRequest || response.status == 204 || response.status == 304 || response.status < 200
            ? 0
            : response.header("Content-Length").toLongLong();
    while (m_buffer.size() < length)
        if (!fill())
            return {};
    response.body = m_buffer.left(length);
    m_buffer.remove(0, length);
    return response;
}
