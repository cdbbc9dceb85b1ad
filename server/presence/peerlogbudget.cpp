#include "peerlogbudget.h"

bool PeerLogBudget::admit(Kind kind, qint64 nowMs)
{
    if (nowMs >= windowEndMs()) {
        m_windowStartMs = nowMs;
        m_written = 0;
    }
    if (m_written < m_perSecond) {
        ++m_written;
        return true;
    }
    ++m_held[kind];
    return false;
}

QByteArray PeerLogBudget::takeSummary(qint64 nowMs)
{
    if (!holdsBack() || nowMs < windowEndMs())
        return {};
    static const char *const verbs[Kinds] = {"came online", "went offline", "expired"};
    QByteArray out;
    for (int kind = 0; kind < Kinds; ++kind) {
        if (m_held[kind] == 0)
            continue;
        if (out.isEmpty())
            out += QByteArray::number(m_held[kind]) +
                   (m_held[kind] == 1 ? " more peer " : " more peers ");
        else
            out += ", " + QByteArray::number(m_held[kind]) + ' ';
        out += verbs[kind];
        m_held[kind] = 0;
    }
    return out;
}
