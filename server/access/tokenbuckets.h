#pragma once

#include <QByteArray>
#include <QHash>

#include <array>
#include <chrono>
#include <mutex>

// A token bucket per key (a client address, a peer ID): `burst` tokens at most, refilled at
// `perSecond`; each event takes one. Thread-safe (the keys are spread over a few independently
// locked shards), and bounded: at most `maxKeys` buckets are held, however many keys a flood
// brings. Each shard keeps two generations of buckets; a bucket touched moves to the current
// one, and the older generation is dropped when the current one is full or when a whole refill
// time has passed (then every bucket in it is full again, which is the same as having none).
// A key is held as its 64-bit hash under a seed of this process's (about 24 bytes a bucket, not
// a copy of a 52-byte peer ID): two keys share a bucket only by a chance nobody can aim for.
class TokenBuckets
{
public:
    using Clock = std::chrono::steady_clock;
    struct Rate
    {
        double perSecond = 0; // 0: no limit
        double burst = 1;
    };

    TokenBuckets(const Rate &rate, int maxKeys);

    bool isUnlimited() const { return m_rate.perSecond <= 0; }
    // Takes a token for `key`: zero when there was one, else how long until there is one.
    std::chrono::milliseconds take(QByteArrayView key, Clock::time_point now = Clock::now());
    // How long until `key` has a token, taking none.
    std::chrono::milliseconds waitFor(QByteArrayView key,
                                      Clock::time_point now = Clock::now()) const;
    // Drops what a whole refill time has made full again (also done as keys are taken).
    void sweep(Clock::time_point now = Clock::now());
    int size() const;
    const Rate &rate() const { return m_rate; }

private:
    struct Bucket
    {
        double tokens;
        Clock::time_point updated;
    };
    struct Shard
    {
        mutable std::mutex mutex;
        QHash<quint64, Bucket> current, previous;
        Clock::time_point rotated;
    };
    static constexpr size_t shardCount = 16;

    quint64 hashOf(QByteArrayView key) const { return quint64(qHash(key, m_seed)); }
    void rotateIfDue(Shard &shard, Clock::time_point now) const;
    // The bucket's tokens now, and the wait for one.
    double refilled(const Bucket &bucket, Clock::time_point now) const;
    std::chrono::milliseconds waitForToken(double tokens) const;

    const Rate m_rate;
    const int m_maxPerShard;
    const Clock::duration m_refillTime; // from empty to full
    const size_t m_seed;
    std::array<Shard, shardCount> m_shards;
};
