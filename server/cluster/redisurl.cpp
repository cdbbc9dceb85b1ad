#include "redisurl.h"

#include <QUrl>

std::optional<RedisUrl> RedisUrl::parse(const QString &text, QString *error)
{
    const QUrl url(text, QUrl::StrictMode);
    const auto fail = [&](const QString &why) {
        *error = QStringLiteral("invalid Redis URL \"%1\": %2").arg(text, why);
        return std::nullopt;
    };
    if (!url.isValid() || url.scheme() != QLatin1String("redis"))
        return fail(QStringLiteral("expected redis://HOST[:PORT][/DB]"));
    if (url.host().isEmpty())
        return fail(QStringLiteral("no host"));
    if (url.hasQuery() || url.hasFragment())
        return fail(QStringLiteral("no query or fragment allowed"));
    RedisUrl result;
    result.host = url.host();
    const int port = url.port(6379);
    if (port <= 0)
        return fail(QStringLiteral("bad port"));
    result.port = static_cast<quint16>(port);
    QString path = url.path();
    if (path.startsWith(QLatin1Char('/')))
        path.remove(0, 1);
    if (!path.isEmpty()) {
        bool ok = false;
        result.database = path.toInt(&ok);
        if (!ok || result.database < 0 || path.startsWith(QLatin1Char('+')))
            return fail(QStringLiteral("the path must be a database number"));
    }
    result.user = url.userName(QUrl::FullyDecoded).toUtf8();
    result.password = url.password(QUrl::FullyDecoded).toUtf8();
    return result;
}

QString RedisUrl::displayText() const
{
    return QStringLiteral("redis://%1:%2/%3").arg(host).arg(port).arg(database);
}
