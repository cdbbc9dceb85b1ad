#include "peercounthistory.h"

PeerCountHistory::PeerCountHistory(int capacity, QObject *parent)
    : QObject(parent), m_capacity(qMax(2, capacity))
{}

void PeerCountHistory::record(const QString &server, qint64 timeMs, int count)
{
    QList<QPointF> &samples = m_samples[server];
    if (samples.size() >= m_capacity)
        samples.removeFirst();
    samples.append(QPointF(static_cast<qreal>(timeMs), count));
    Q_EMIT sampleAdded(server, timeMs, count);
}

void PeerCountHistory::forget(const QString &server)
{
    m_samples.remove(server);
}
