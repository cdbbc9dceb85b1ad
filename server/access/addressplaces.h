#pragma once

#include <QByteArray>
#include <QHash>

#include <memory>
#include <mutex>

// Places for long-lived connections (event streams, WebSockets), at most `maxPerAddress` per
// client address. A place is held as long as any copy of its handle lives (the stream keeps
// it), so it is given back however the stream ends. Memory follows the streams: an address
// with none holds nothing. Thread-safe.
class AddressPlaces : public std::enable_shared_from_this<AddressPlaces>
{
public:
    using Place = std::shared_ptr<void>;

    static std::shared_ptr<AddressPlaces> create(int maxPerAddress);

    // A place for `key` (limitKey()), or null when it holds `maxPerAddress` already (0: no cap)
    // and `beyondCap` is false.
    Place take(const QByteArray &key, bool beyondCap = false);
    int maxPerAddress() const { return m_maxPerAddress; }
    int addresses() const;

private:
    explicit AddressPlaces(int maxPerAddress) : m_maxPerAddress(maxPerAddress) {}
    void giveBack(const QByteArray &key);

    const int m_maxPerAddress;
    mutable std::mutex m_mutex;
    QHash<QByteArray, int> m_held;
};
