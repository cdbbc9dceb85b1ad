#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>

// A blocking HTTP/1.1 client over one keep-alive connection that hands back the exact bytes,
// so that tests can compare status lines, headers and bodies byte for byte.
class HttpClient
{
public:
    struct Response
    {
        int status = 0; // 0: no complete response
        QByteArray statusLine;
        QList<QPair<QByteArray, QByteArray>> headers;
        QByteArray body;

        QByteArray header(QByteArrayView name) const; // first value, case-insensitive
        bool hasHeader(QByteArrayView name) const;
    };

    // `from`: the local address to connect from (127.0.0.2 ... make distinct clients on one
    // machine); null for any.
    explicit HttpClient(quint16 port, const QHostAddress &from = {});
    ~HttpClient();

    Response get(const QByteArray &path) { return request("GET", path); }
    Response post(const QByteArray &path, const QByteArray &body)
    {
        return request("POST", path, body);
    }
    Response request(const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
                     const QByteArray &extraHeaders = {});

    // Sends `bytes` as they are and reads one response (for malformed and partial requests).
    Response raw(const QByteArray &bytes, int timeoutMs = 5000);

    // True once the server has closed the connection (waits up to `timeoutMs`).
    bool waitForClose(int timeoutMs);

private:
    bool ensureConnected();
    Response readResponse(bool headRequest, int timeoutMs);

    quint16 m_port;
    QHostAddress m_from;
    class QTcpSocket *m_socket;
    QByteArray m_buffer;
};
