#include "identitykeyfile.h"

#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace IdentityKeyFile {

namespace {

constexpr qint64 maxKeyFileBytes = 4096;

std::optional<IdentityKey> load(const QString &path, QString *error)
{
#ifdef Q_OS_UNIX
    struct stat status = {};
    if (::stat(QFile::encodeName(path).constData(), &status) == 0 && (status.st_mode & 077)) {
        *error = QStringLiteral("libp2p key file %1 is readable by others (mode %2): run chmod "
                                "600 on it")
                     .arg(path)
                     .arg(status.st_mode & 0777, 4, 8, QLatin1Char('0'));
        return std::nullopt;
    }
#endif
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read libp2p key file %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    const QByteArray bytes = file.read(maxKeyFileBytes + 1);
    auto key =
        bytes.size() <= maxKeyFileBytes ? IdentityKey::fromPrivateKeyProtobuf(bytes) : std::nullopt;
    if (!key)
        *error = QStringLiteral("libp2p key file %1 does not hold an Ed25519 libp2p private key")
                     .arg(path);
    return key;
}

// Writes a new key beside `path` and links it into place, so that two servers starting at once
// both end up with the one key that won.
bool create(const QString &path, const IdentityKey &key, QString *error)
{
    const QByteArray bytes = key.privateKeyProtobuf();
#ifdef Q_OS_UNIX
    const QByteArray target = QFile::encodeName(path);
    const QByteArray temporary = target + ".tmp" + QByteArray::number(qint64(::getpid()));
    const int fd = ::open(temporary.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        *error = QStringLiteral("cannot create libp2p key file %1: %2")
                     .arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    const bool written =
        ::write(fd, bytes.constData(), size_t(bytes.size())) == bytes.size() && ::fsync(fd) == 0;
    ::close(fd);
    const bool linked =
        written && (::link(temporary.constData(), target.constData()) == 0 || errno == EEXIST);
    const int savedErrno = errno;
    ::unlink(temporary.constData());
    if (!linked) {
        *error = QStringLiteral("cannot create libp2p key file %1: %2")
                     .arg(path, QString::fromLocal8Bit(std::strerror(savedErrno)));
        return false;
    }
    return true;
#else
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() ||
        !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner) || !file.commit()) {
        *error =
            QStringLiteral("cannot create libp2p key file %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
#endif
}

} // namespace

std::optional<IdentityKey> loadOrCreate(const QString &path, QString *error)
{
    if (!QFileInfo::exists(path) && !create(path, IdentityKey::generate(), error))
        return std::nullopt;
    return load(path, error);
}

} // namespace IdentityKeyFile
