#include "eventid.h"

namespace {

// A decimal without sign or leading '+', at most 20 digits, that fits 64 bits.
std::optional<quint64> readNumber(QByteArrayView text, int base)
{
    if (text.isEmpty() || text.size() > 20)
        return std::nullopt;
    for (const char c : text) {
        const bool digit = c >= '0' && c <= '9';
        const bool hex = base == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
        if (!digit && !hex)
            return std::nullopt;
    }
    bool ok = false;
    const quint64 value = text.toULongLong(&ok, base);
    return ok ? std::optional(value) : std::nullopt;
}

} // namespace

QByteArray EventId::toText() const
{
    QByteArray text = QByteArray::number(ms) + '-' + QByteArray::number(seq);
    if (isLocal())
        text += '-' + QByteArray::number(local) + '-' + QByteArray::number(instance, 16);
    return text;
}

std::optional<EventId> EventId::parse(QByteArrayView text)
{
    if (text.size() > 80)
        return std::nullopt;
    const QList<QByteArrayView> parts = [&] {
        QList<QByteArrayView> out;
        qsizetype from = 0;
        for (qsizetype i = 0; i <= text.size(); ++i) {
            if (i == text.size() || text[i] == '-') {
                out.append(text.sliced(from, i - from));
                from = i + 1;
            }
        }
        return out;
    }();
    if (parts.size() != 2 && parts.size() != 4)
        return std::nullopt;
    const auto ms = readNumber(parts[0], 10);
    const auto seq = readNumber(parts[1], 10);
    if (!ms || !seq)
        return std::nullopt;
    EventId id{*ms, *seq};
    if (parts.size() == 4) {
        const auto local = readNumber(parts[2], 10);
        const auto instance = parts[3].size() <= 8 ? readNumber(parts[3], 16) : std::nullopt;
        if (!local || *local == 0 || !instance)
            return std::nullopt;
        id.local = *local;
        id.instance = quint32(*instance);
    }
    return id;
}
