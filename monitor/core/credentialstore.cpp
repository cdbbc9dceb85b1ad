#include "credentialstore.h"

#include <QFile>
#include <QRegularExpression>

bool CredentialStore::loadNetrc(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        *error =
            QStringLiteral("cannot read the credentials file %1: %2").arg(path, file.errorString());
        return false;
    }
#ifndef Q_OS_WIN
    if (file.permissions() & QFileDevice::ReadOther) {
        *error = QStringLiteral("the credentials file %1 is readable by every user: chmod 600 "
                                "it first")
                     .arg(path);
        return false;
    }
#endif
    static const QRegularExpression space(QStringLiteral("\\s+"));
    const QStringList tokens = QString::fromUtf8(file.readAll()).split(space, Qt::SkipEmptyParts);
    QHash<QString, Credentials> entries;
    QString *field = nullptr;
    QString host;
    bool inEntry = false;
    for (qsizetype i = 0; i < tokens.size(); ++i) {
        const QString &token = tokens[i];
        if (token == QLatin1String("machine") && i + 1 < tokens.size()) {
            host = tokens[++i].toLower();
            inEntry = true;
        } else if (token == QLatin1String("default")) {
            host.clear();
            inEntry = true;
        } else if (inEntry && token == QLatin1String("login") && i + 1 < tokens.size()) {
            field = &entries[host].user;
            *field = tokens[++i];
        } else if (inEntry && token == QLatin1String("password") && i + 1 < tokens.size()) {
            field = &entries[host].password;
            *field = tokens[++i];
        } else if (token == QLatin1String("macdef")) {
            break; // macros (curl ignores them too) end the part we read
        } else if (!inEntry) {
            *error = QStringLiteral("%1 is not in the netrc format (\"machine HOST login USER "
                                    "password SECRET\")")
                         .arg(path);
            return false;
        }
    }
    m_byHost.insert(entries);
    return true;
}

std::optional<Credentials> CredentialStore::find(const QUrl &server) const
{
    const QString key = server.adjusted(QUrl::StripTrailingSlash).toString();
    if (const auto typed = m_typed.constFind(key); typed != m_typed.cend())
        return *typed;
    for (const QString &host : {server.host().toLower(), QString()}) {
        if (const auto entry = m_byHost.constFind(host); entry != m_byHost.cend())
            return *entry;
    }
    return std::nullopt;
}

void CredentialStore::remember(const QUrl &server, const Credentials &credentials)
{
    m_typed.insert(server.adjusted(QUrl::StripTrailingSlash).toString(), credentials);
}
