#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <optional>

// HTTP Basic auth for the operators' pages: user `admin` (as the current Go server has it) and
// the password from a file. Only a SHA-256 of "admin:password" is kept, and a request's
// credentials are hashed the same way and compared in constant time, so that neither their
// length nor their first wrong byte shows in the time an answer takes.
class OperatorDoor
{
public:
    static constexpr char user[] = "admin";
    static constexpr char realm[] = "goop-rendezvous";

    // The password is the file's content without its final line end. Refused: an unreadable or
    // empty file, or one that every user of the machine can read.
    static std::optional<OperatorDoor> fromFile(const QString &path, QString *error);
    static OperatorDoor withPassword(QByteArrayView password);

    // `authorization`: the request's Authorization header value (empty when it has none).
    bool admits(QByteArrayView authorization) const;

private:
    explicit OperatorDoor(QByteArray digest) : m_digest(std::move(digest)) {}
    static QByteArray digestOf(QByteArrayView userAndPassword);

    QByteArray m_digest;
};
