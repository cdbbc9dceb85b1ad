#pragma once

#include <QHash>
#include <QString>
#include <QUrl>

#include <functional>
#include <optional>

// What the monitor signs in with to a server behind the operators' door (HTTP Basic).
struct Credentials
{
    QString user;
    QString password;
};

// Credentials per server, in memory only: from a credentials file in the netrc format that curl
// also reads ("machine HOST login USER password SECRET", or "default ..."), and those the
// operator typed into the prompt, kept for the session. Nothing is written anywhere.
class CredentialStore
{
public:
    // Reads `path`; false and a one-line reason when it cannot be read, is readable by every
    // user, or is not netrc.
    bool loadNetrc(const QString &path, QString *error);

    std::optional<Credentials> find(const QUrl &server) const;
    void remember(const QUrl &server, const Credentials &credentials);

private:
    QHash<QString, Credentials> m_byHost; // netrc's machine; "" for its default
    QHash<QString, Credentials> m_typed;  // by server URL, as typed into the prompt
};

// Asked when a server wants credentials: for `server`, `failedBefore` when the last ones were
// refused. Returns what to sign in with, or nullopt to give up (the connection then retries
// later, as after any failure).
using CredentialProvider =
    std::function<std::optional<Credentials>(const QString &server, bool failedBefore)>;
