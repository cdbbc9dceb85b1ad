// GET /metrics: Prometheus text that promtool accepts, with figures that follow what the server
// did.
#include "httpclient.h"
#include "serverprocess.h"
#include "sseclient.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTest>

namespace {

// The value of the sample `name{labels}` (or of `name` alone), or -1.
double sampleValue(const QByteArray &text, const QByteArray &sample)
{
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith(sample + ' '))
            return line.mid(sample.size() + 1).toDouble();
    }
    return -1;
}

} // namespace

class TestMetrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void countsWhatHappened()
    {
        ServerProcess server;
        QVERIFY(server.start());
        SseClient stream(server.port());
        QVERIFY(stream.open());
        HttpClient http(server.port());
        QCOMPARE(http.post("/publish", "{\"type\":\"online\",\"peerId\":\"a\"}").status, 204);
        QCOMPARE(http.post("/publish", "{\"type\":\"update\",\"peerId\":\"b\"}").status, 204);
        QCOMPARE(http.post("/publish", "not json").status, 400);
        QCOMPARE(http.post("/publish", "{\"type\":\"away\",\"peerId\":\"a\"}").status, 400);
        QCOMPARE(http.get("/nowhere").status, 404);
        QCOMPARE(HttpClient(server.port()).raw("BROKEN\r\n\r\n").status, 400);
        QCOMPARE(stream.waitForEvents(2), 2);

        const auto r = http.get("/metrics");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Content-Type"), QByteArray("text/plain; version=0.0.4; charset=utf-8"));
        const QByteArray &m = r.body;
        QCOMPARE(sampleValue(m, "goop_publishes_total"), 2.0);
        QCOMPARE(sampleValue(m, "goop_publish_rejections_total{reason=\"bad_json\"}"), 1.0);
        QCOMPARE(sampleValue(m, "goop_publish_rejections_total{reason=\"unknown_type\"}"), 1.0);
        QCOMPARE(sampleValue(m, "goop_sse_subscribers"), 1.0);
        QCOMPARE(sampleValue(m, "goop_sse_events_delivered_total"), 2.0);
        QCOMPARE(sampleValue(m, "goop_http_requests_total{route=\"/publish\",status=\"204\"}"),
                 2.0);
        QCOMPARE(sampleValue(m, "goop_http_requests_total{route=\"/publish\",status=\"400\"}"),
                 2.0);
        QCOMPARE(sampleValue(m, "goop_http_requests_total{route=\"other\",status=\"404\"}"), 1.0);
        QCOMPARE(sampleValue(m, "goop_http_refused_total{status=\"400\"}"), 1.0);
        QCOMPARE(sampleValue(m, "goop_http_request_duration_seconds_count{route=\"/publish\"}"),
                 4.0);
        QCOMPARE(
            sampleValue(
                m, "goop_http_request_duration_seconds_bucket{route=\"/publish\",le=\"+Inf\"}"),
            4.0);
        QVERIFY(sampleValue(m, "process_resident_memory_bytes") > 1e6);
        QVERIFY(sampleValue(m, "process_open_fds") > 3);
        QVERIFY(sampleValue(m, "goop_uptime_seconds") >= 0);
        QVERIFY(m.contains("goop_build_info{version=\""));

        // Prometheus' own checker finds nothing to complain about.
        QProcess promtool;
        promtool.start(QStringLiteral("promtool"), {"check", "metrics"});
        QVERIFY2(promtool.waitForStarted(), "promtool (Debian's prometheus package) is needed");
        promtool.write(m);
        promtool.closeWriteChannel();
        QVERIFY(promtool.waitForFinished(20000));
        const QByteArray complaints =
            promtool.readAllStandardOutput() + promtool.readAllStandardError();
        QVERIFY2(promtool.exitCode() == 0 && complaints.trimmed().isEmpty(),
                 complaints.constData());
    }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
