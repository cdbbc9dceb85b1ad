#include "dashboardfiles.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QFile>

namespace {

const QString resourceRoot = QStringLiteral(":/dashboard/");

QByteArray contentTypeFor(const QString &name)
{
    static const QHash<QString, QByteArray> types = {
        {QStringLiteral("html"), "text/html; charset=utf-8"},
        {QStringLiteral("js"), "text/javascript; charset=utf-8"},
        {QStringLiteral("css"), "text/css; charset=utf-8"},
        {QStringLiteral("svg"), "image/svg+xml"},
        {QStringLiteral("png"), "image/png"},
        {QStringLiteral("ico"), "image/x-icon"},
        {QStringLiteral("json"), "application/json; charset=utf-8"},
        {QStringLiteral("webmanifest"), "application/manifest+json"},
    };
    return types.value(name.section(QLatin1Char('.'), -1), "application/octet-stream");
}

} // namespace

DashboardFiles::DashboardFiles()
{
    QDirIterator it(resourceRoot, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString resource = it.next();
        QFile file(resource);
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QString name = resource.mid(resourceRoot.size());
        File entry{contentTypeFor(name), file.readAll(), {}};
        entry.etag =
            '"' + QCryptographicHash::hash(entry.body, QCryptographicHash::Sha1).toHex().left(16) +
            '"';
        m_files.insert(name == QLatin1String("index.html") ? QStringLiteral("/")
                                                           : QStringLiteral("/assets/") + name,
                       entry);
    }
}

HttpReply DashboardFiles::reply(const QString &path, const QByteArray &ifNoneMatch) const
{
    const File &file = m_files[path];
    HttpReply reply{200, file.contentType, file.body, {}};
    // The dashboard has no inline script or style and talks only to this server: anything else
    // a peer's text might smuggle in is refused by the browser too.
    reply.extraHeaders =
        "ETag: " + file.etag +
        "\r\nCache-Control: no-cache\r\nContent-Security-Policy: default-src 'self'\r\n"
        "X-Content-Type-Options: nosniff\r\n";
    if (!ifNoneMatch.isEmpty() && ifNoneMatch.contains(file.etag)) {
        reply.status = 304;
        reply.body.clear();
    }
    return reply;
}
