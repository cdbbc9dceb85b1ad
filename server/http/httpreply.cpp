#include "httpreply.h"

#include "jsonwriter.h"

#include <QDateTime>
#include <QLocale>

#include <ctime>

HttpReply HttpReply::text(int status, QByteArrayView line)
{
    HttpReply reply;
    reply.status = status;
    reply.contentType = "text/plain; charset=utf-8";
    reply.body = line.toByteArray() + '\n';
    reply.extraHeaders = "X-Content-Type-Options: nosniff\r\n";
    return reply;
}

HttpReply HttpReply::json(QByteArray body)
{
    return {200, "application/json; charset=utf-8", std::move(body), {}};
}

QByteArray HttpReply::serialize(bool headOnly) const
{
    QByteArray out = head();
    if (!headOnly)
        out.append(body);
    return out;
}

QByteArray HttpReply::head() const
{
    QByteArray out;
    out.reserve(160 + extraHeaders.size());
    out.append("HTTP/1.1 ");
    JsonWriter::appendInteger(out, status);
    out.append(' ').append(reasonPhrase(status)).append("\r\n");
    if (!contentType.isEmpty())
        out.append("Content-Type: ").append(contentType).append("\r\n");
    out.append(extraHeaders);
    out.append("Date: ").append(httpDate()).append("\r\n");
    if (status != 204 && status != 304) {
        out.append("Content-Length: ");
        JsonWriter::appendInteger(out, body.size());
        out.append("\r\n");
    }
    out.append("\r\n");
    return out;
}

QByteArrayView HttpReply::reasonPhrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Request Entity Too Large";
    case 417:
        return "Expectation Failed";
    case 425:
        return "Too Early";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    }
    return "Unknown";
}

QByteArray httpDate()
{
    // Per thread, so that several serving threads never share the cache.
    thread_local std::time_t cachedSecond = 0;
    thread_local QByteArray cached;
    const std::time_t now = std::time(nullptr);
    if (now != cachedSecond) {
        cachedSecond = now;
        cached = QLocale::c()
                     .toString(QDateTime::fromSecsSinceEpoch(now, Qt::UTC),
                               QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'"))
                     .toLatin1();
    }
    return cached;
}
