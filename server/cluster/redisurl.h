#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

// Where the cluster's Redis is: redis://[[user]:password@]host[:port][/db].
struct RedisUrl
{
    QString host;
    quint16 port = 6379;
    int database = 0;
    QByteArray user;
    QByteArray password;

    // Parses `text`; on failure returns nothing and puts a one-line reason in `error`.
    static std::optional<RedisUrl> parse(const QString &text, QString *error);

    // The URL without its password, for logs.
    QString displayText() const;
};
