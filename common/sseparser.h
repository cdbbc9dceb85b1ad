#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

// An incremental Server-Sent Events parser (the WHATWG event-stream rules): feed it bytes in
// chunks of any size, split anywhere, and take the complete events out.
class SseParser
{
public:
    struct Event
    {
        QByteArray type = "message"; // the `event:` field
        QByteArray data;             // `data:` lines joined with '\n'
        QByteArray id;
    };

    // Parses `chunk` and returns the events it completed.
    QList<Event> feed(QByteArrayView chunk);

    // Comment lines seen so far (`: ok`, `: ping`), without the colon and the one space.
    qint64 commentCount() const { return m_commentCount; }
    QByteArray lastComment() const { return m_lastComment; }

    void reset();

private:
    void processLine(QByteArrayView line, QList<Event> &out);

    QByteArray m_pending; // an incomplete line
    bool m_skipLeadingBom = true;
    bool m_lastWasCr = false;
    Event m_event;
    bool m_hasData = false;
    qint64 m_commentCount = 0;
    QByteArray m_lastComment;
};
