#include "sseparser.h"

QList<SseParser::Event> SseParser::feed(QByteArrayView chunk)
{
    QList<Event> out;
    if (m_skipLeadingBom) {
        // The stream may start with a UTF-8 byte order mark, which is not part of the first line;
        // it may arrive split over chunks.
        const QByteArrayView bom("\xEF\xBB\xBF");
        m_pending.append(chunk);
        if (m_pending.size() < bom.size() && bom.startsWith(m_pending))
            return out;
        m_skipLeadingBom = false;
        QByteArray head = std::exchange(m_pending, {});
        if (head.startsWith(bom))
            head.remove(0, bom.size());
        return feed(head);
    }

    qsizetype i = 0;
    while (i < chunk.size()) {
        if (m_lastWasCr && chunk[i] == '\n') { // the second half of a "\r\n" line end
            m_lastWasCr = false;
            ++i;
            continue;
        }
        qsizetype end = i;
        while (end < chunk.size() && chunk[end] != '\n' && chunk[end] != '\r')
            ++end;
        m_pending.append(chunk.sliced(i, end - i));
        if (end == chunk.size()) {
            m_lastWasCr = false;
            break;
        }
        processLine(m_pending, out);
        m_pending.clear();
        m_lastWasCr = chunk[end] == '\r';
        i = end + 1;
    }
    return out;
}

void SseParser::reset()
{
    *this = SseParser();
}

void SseParser::processLine(QByteArrayView line, QList<Event> &out)
{
    if (line.isEmpty()) {
        if (m_hasData) {
            if (m_event.data.endsWith('\n'))
                m_event.data.chop(1);
            out.append(m_event);
        }
        const QByteArray lastId = m_event.id;
        m_event = Event();
        m_event.id = lastId;
        m_hasData = false;
        return;
    }
    if (line.startsWith(':')) {
        ++m_commentCount;
        QByteArrayView text = line.sliced(1);
        if (text.startsWith(' '))
            text = text.sliced(1);
        m_lastComment = text.toByteArray();
        return;
    }
    const qsizetype colon = line.indexOf(':');
    const QByteArrayView field = colon < 0 ? line : line.first(colon);
    QByteArrayView value = colon < 0 ? QByteArrayView() : line.sliced(colon + 1);
    if (value.startsWith(' '))
        value = value.sliced(1);
    if (field == "data") {
        m_event.data.append(value).append('\n');
        m_hasData = true;
    } else if (field == "event") {
        m_event.type = value.toByteArray();
    } else if (field == "id" && !value.contains('\0')) {
        m_event.id = value.toByteArray();
    }
}
