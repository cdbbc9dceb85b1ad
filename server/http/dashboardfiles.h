#pragma once

#include "httpreply.h"

#include <QHash>
#include <QStringList>

// The web dashboard, embedded in the binary as Qt resources under :/dashboard and held in
// memory: index.html is served at `/`, every other file at `/assets/<name>`, with its content
// type and an ETag so that browsers revalidate cheaply (304).
class DashboardFiles
{
public:
    DashboardFiles();

    QStringList paths() const { return m_files.keys(); }

    // The file at `path` (one of paths()), or 304 when `ifNoneMatch` names its current version.
    HttpReply reply(const QString &path, const QByteArray &ifNoneMatch) const;

private:
    struct File
    {
        QByteArray contentType;
        QByteArray body;
        QByteArray etag;
    };
    QHash<QString, File> m_files;
};
