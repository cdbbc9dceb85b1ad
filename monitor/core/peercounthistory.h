#pragma once

#include <QHash>
#include <QList>
#include <QObject>
#include <QPointF>

// Peer count per server over time, one sample per tick, the last `capacity` kept (an hour at
// one sample a second), for the chart.
class PeerCountHistory : public QObject
{
    Q_OBJECT

public:
    explicit PeerCountHistory(int capacity = 3600, QObject *parent = nullptr);

    void record(const QString &server, qint64 timeMs, int count);
    void forget(const QString &server);
    // x: Unix ms, y: peers.
    QList<QPointF> samples(const QString &server) const { return m_samples.value(server); }
    QStringList servers() const { return m_samples.keys(); }
    int capacity() const { return m_capacity; }

Q_SIGNALS:
    void sampleAdded(const QString &server, qint64 timeMs, int count);

private:
    QHash<QString, QList<QPointF>> m_samples;
    int m_capacity;
};
