#include "operatordoor.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>

QByteArray OperatorDoor::digestOf(QByteArrayView userAndPassword)
{
    return QCryptographicHash::hash(userAndPassword, QCryptographicHash::Sha256);
}

OperatorDoor OperatorDoor::withPassword(QByteArrayView password)
{
    return OperatorDoor(digestOf(QByteArray(user) + ':' + password.toByteArray()));
}

std::optional<OperatorDoor> OperatorDoor::fromFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read the admin password file %1: %2")
                     .arg(path, file.errorString());
        return std::nullopt;
    }
#ifndef Q_OS_WIN
    if (file.permissions() & QFileDevice::ReadOther) {
        *error = QStringLiteral("the admin password file %1 is readable by every user: "
                                "chmod 600 (or 640 for the service's group) first")
                     .arg(path);
        return std::nullopt;
    }
#endif
    QByteArray password = file.read(4096);
    while (password.endsWith('\n') || password.endsWith('\r'))
        password.chop(1);
    if (password.isEmpty()) {
        *error = QStringLiteral("the admin password file %1 is empty").arg(path);
        return std::nullopt;
    }
    OperatorDoor door = withPassword(password);
    password.fill('\0'); // no copy of it lingers in the heap
    return door;
}

bool OperatorDoor::admits(QByteArrayView authorization) const
{
    authorization = authorization.trimmed();
    constexpr QByteArrayView scheme = "Basic ";
    if (authorization.size() <= scheme.size() ||
        authorization.first(scheme.size()).compare(scheme, Qt::CaseInsensitive) != 0)
        return false;
    QByteArray decoded = QByteArray::fromBase64(authorization.sliced(scheme.size()).toByteArray());
    const QByteArray digest = digestOf(decoded);
    decoded.fill('\0');
    unsigned char difference = 0;
    for (qsizetype i = 0; i < digest.size(); ++i)
        difference |= static_cast<unsigned char>(digest[i] ^ m_digest[i]);
    return difference == 0;
}
