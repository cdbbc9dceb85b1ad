#include "caddyprocess.h"

#include "httpclient.h"
#include "loopbackport.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QThread>

CaddyProcess::CaddyProcess(const QList<quint16> &upstreams) : m_port(freeLoopbackPort())
{
    QByteArray addresses;
    for (const quint16 upstream : upstreams)
        addresses += " 127.0.0.1:" + QByteArray::number(upstream);
    // No admin endpoint and no certificates: a plain HTTP site on loopback. The reverse_proxy
    // block is the guide's, with round-robin and intervals in seconds rather than tens.
    m_caddyfile = "{\n"
                  "\tadmin off\n"
                  "\tauto_https off\n"
                  "}\n"
                  "http://127.0.0.1:" +
                  QByteArray::number(m_port) +
                  " {\n"
                  "\treverse_proxy" +
                  addresses +
                  " {\n"
                  "\t\tlb_policy round_robin\n"
                  "\t\thealth_uri /healthz\n"
                  "\t\thealth_interval " +
                  QByteArray::number(healthIntervalMs) +
                  "ms\n"
                  "\t\thealth_timeout 1s\n"
                  "\t\tfail_duration 5s\n"
                  "\t\tflush_interval -1\n"
                  "\t}\n"
                  "}\n";
    QFile file(m_dir.filePath(QStringLiteral("Caddyfile")));
    if (file.open(QIODevice::WriteOnly))
        file.write(m_caddyfile);

    // Caddy keeps its state (autosave, certificates) under HOME and the XDG directories.
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("HOME"), m_dir.path());
    environment.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("data")));
    environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
    m_process.setProcessEnvironment(environment);
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.setProgram(binary());
    m_process.setArguments({"run", "--config", file.fileName(), "--adapter", "caddyfile"});
}

CaddyProcess::~CaddyProcess()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.terminate();
        if (!m_process.waitForFinished(5000)) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
}

bool CaddyProcess::start(int timeoutMs)
{
    if (!m_dir.isValid())
        return false;
    m_process.start();
    if (!m_process.waitForStarted(timeoutMs))
        return false;
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired() && m_process.state() == QProcess::Running) {
        HttpClient http(m_port);
        const auto response = http.get("/healthz");
        if (response.status == 200 && response.body == "ok")
            return true;
        m_process.waitForReadyRead(50);
        m_log += m_process.readAll();
    }
    m_log += m_process.readAll();
    return false;
}

QByteArray CaddyProcess::log()
{
    m_log += m_process.readAll();
    return m_log;
}
