#include "peercountchart.h"

#include "peercounthistory.h"

#include <QDateTime>
#include <QDateTimeAxis>
#include <QLineSeries>
#include <QValueAxis>

#include <memory>

PeerCountChart::PeerCountChart(PeerCountHistory *history, QWidget *parent)
    : QChartView(parent), m_history(history), m_timeAxis(new QDateTimeAxis),
      m_countAxis(new QValueAxis)
{
    auto *chart = new QChart;
    chart->setTitle(tr("Peers over time"));
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(4, 4, 4, 4));
    m_timeAxis->setFormat(QStringLiteral("HH:mm:ss"));
    m_timeAxis->setTickCount(6);
    m_countAxis->setLabelFormat(QStringLiteral("%d"));
    m_countAxis->setMin(0);
    chart->addAxis(m_timeAxis, Qt::AlignBottom);
    chart->addAxis(m_countAxis, Qt::AlignLeft);
    // QChartView made a chart of its own, which setChart() lets go of without deleting it.
    std::unique_ptr<QChart> defaultChart(this->chart());
    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    for (const QString &server : history->servers()) {
        QLineSeries *series = seriesFor(server);
        series->replace(history->samples(server));
    }
    connect(history, &PeerCountHistory::sampleAdded, this, &PeerCountChart::addSample);
    rescale();
}

QLineSeries *PeerCountChart::seriesFor(const QString &server)
{
    if (QLineSeries *series = m_series.value(server))
        return series;
    auto *series = new QLineSeries(this);
    series->setName(server);
    chart()->addSeries(series);
    series->attachAxis(m_timeAxis);
    series->attachAxis(m_countAxis);
    m_series.insert(server, series);
    return series;
}

void PeerCountChart::addSample(const QString &server, qint64 timeMs, int count)
{
    QLineSeries *series = seriesFor(server);
    if (series->count() >= m_history->capacity())
        series->remove(0);
    series->append(static_cast<qreal>(timeMs), count);
    rescale();
}

void PeerCountChart::removeServer(const QString &server)
{
    if (QLineSeries *series = m_series.take(server)) {
        chart()->removeSeries(series);
        delete series;
    }
    rescale();
}

void PeerCountChart::rescale()
{
    qreal first = 0, last = 0, highest = 0;
    bool any = false;
    for (const QLineSeries *series : std::as_const(m_series)) {
        if (series->count() == 0)
            continue;
        const qreal seriesFirst = series->at(0).x();
        const qreal seriesLast = series->at(series->count() - 1).x();
        first = any ? qMin(first, seriesFirst) : seriesFirst;
        last = any ? qMax(last, seriesLast) : seriesLast;
        for (const QPointF &point : series->points())
            highest = qMax(highest, point.y());
        any = true;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (!any)
        first = last = static_cast<qreal>(now);
    // At least a minute wide, so the first samples do not fill the whole width.
    first = qMin(first, last - 60000);
    m_timeAxis->setRange(QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(first)),
                         QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(last)));
    // Round the top up to a tidy number with some head room.
    const qreal top = qMax<qreal>(5, highest * 1.15);
    m_countAxis->setRange(0, top);
    m_countAxis->applyNiceNumbers();
}
