#pragma once

#include <QByteArray>
#include <QByteArrayView>

// One complete HTTP/1.1 response, written to the socket in one piece. The server writes its
// own responses so that status lines, headers and bodies are exactly the Go server's.
struct HttpReply
{
    int status = 200;
    QByteArray contentType;
    QByteArray body;
    QByteArray extraHeaders; // complete "Name: value\r\n" lines
    bool later = false;      // the handler sends it itself, later (ConnectionGuard::owe())

    // A one-line plain-text answer as Go's http.Error writes it (the line and a newline).
    static HttpReply text(int status, QByteArrayView line);
    static HttpReply json(QByteArray body);

    // The status line and headers (with the Content-Length of `body`), then the blank line.
    QByteArray head() const;
    // head() and body; `headOnly` for HEAD: the headers a GET would get, no body.
    QByteArray serialize(bool headOnly = false) const;

    static QByteArrayView reasonPhrase(int status);
};

// The current time as an HTTP Date header value, formatted at most once a second.
QByteArray httpDate();
