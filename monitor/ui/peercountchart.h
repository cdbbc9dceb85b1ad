#pragma once

#include <QChartView>
#include <QHash>

class PeerCountHistory;
class QDateTimeAxis;
class QLineSeries;
class QValueAxis;

// Peer count over time, one line per server, fed by PeerCountHistory's samples.
class PeerCountChart : public QChartView
{
    Q_OBJECT

public:
    explicit PeerCountChart(PeerCountHistory *history, QWidget *parent = nullptr);

    void removeServer(const QString &server);

private:
    void addSample(const QString &server, qint64 timeMs, int count);
    QLineSeries *seriesFor(const QString &server);
    void rescale();

    PeerCountHistory *m_history;
    QHash<QString, QLineSeries *> m_series;
    QDateTimeAxis *m_timeAxis;
    QValueAxis *m_countAxis;
};
