#pragma once

#include "identitykey.h"

#include <QString>

#include <optional>

// The daemon's identity key on disk, as a PrivateKey protobuf (go-libp2p's key file format),
// so that its peer ID survives restarts.
namespace IdentityKeyFile {

// Loads the key at `path`, or creates one there (mode 0600, atomically: a half-written key is
// never seen) when the file does not exist. A file that the group or others may read is
// refused, as ssh refuses such a key. On failure `error` holds one line.
std::optional<IdentityKey> loadOrCreate(const QString &path, QString *error);

} // namespace IdentityKeyFile
