#include "tokenbuckets.h"

#include <QRandomGenerator>
#include <QtGlobal>

#include <cmath>

TokenBuckets::TokenBuckets(const Rate &rate, int maxKeys)
    : m_rate(rate), m_maxPerShard(qMax(2, maxKeys / int(shardCount))),
      m_refillTime(rate.perSecond > 0
                       ? std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(rate.burst / rate.perSecond))
                       : Clock::duration::zero()),
      m_seed(size_t(QRandomGenerator::system()->generate64()))
{
    const Clock::time_point now = Clock::now();
    for (Shard &shard : m_shards)
        shard.rotated = now;
}

void TokenBuckets::rotateIfDue(Shard &shard, Clock::time_point now) const
{
    if (shard.current.size() < m_maxPerShard / 2 && now - shard.rotated < m_refillTime)
        return;
    shard.previous = std::move(shard.current);
    shard.current = {};
    shard.rotated = now;
}

std::chrono::milliseconds TokenBuckets::take(QByteArrayView keyText, Clock::time_point now)
{
    if (isUnlimited())
        return std::chrono::milliseconds::zero();
    const quint64 key = hashOf(keyText);
    Shard &shard = m_shards[key % shardCount];
    std::lock_guard<std::mutex> lock(shard.mutex);
    rotateIfDue(shard, now);
    auto found = shard.current.find(key);
    if (found == shard.current.end()) {
        const auto older = shard.previous.constFind(key);
        const Bucket bucket = older != shard.previous.cend() ? *older : Bucket{m_rate.burst, now};
        if (older != shard.previous.cend())
            shard.previous.erase(older);
        found = shard.current.insert(key, bucket);
    }
    Bucket &bucket = *found;
    bucket.tokens = refilled(bucket, now);
    bucket.updated = now;
    if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return std::chrono::milliseconds::zero();
    }
    return waitForToken(bucket.tokens);
}

std::chrono::milliseconds TokenBuckets::waitFor(QByteArrayView keyText, Clock::time_point now) const
{
    if (isUnlimited())
        return std::chrono::milliseconds::zero();
    const quint64 key = hashOf(keyText);
    const Shard &shard = m_shards[key % shardCount];
    std::lock_guard<std::mutex> lock(shard.mutex);
    for (const auto *generation : {&shard.current, &shard.previous}) {
        const auto found = generation->constFind(key);
        if (found != generation->cend())
            return waitForToken(refilled(*found, now));
    }
    return std::chrono::milliseconds::zero();
}

double TokenBuckets::refilled(const Bucket &bucket, Clock::time_point now) const
{
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    return qMin(m_rate.burst, bucket.tokens + qMax(0.0, elapsed) * m_rate.perSecond);
}

std::chrono::milliseconds TokenBuckets::waitForToken(double tokens) const
{
    if (tokens >= 1)
        return std::chrono::milliseconds::zero();
    const double wait = (1 - tokens) / m_rate.perSecond;
    return std::chrono::milliseconds(qMax<qint64>(1, qint64(std::ceil(wait * 1000))));
}

void TokenBuckets::sweep(Clock::time_point now)
{
    for (Shard &shard : m_shards) {
        std::lock_guard<std::mutex> lock(shard.mutex);
        rotateIfDue(shard, now);
    }
}

int TokenBuckets::size() const
{
    int total = 0;
    for (const Shard &shard : m_shards) {
        std::lock_guard<std::mutex> lock(shard.mutex);
        total += int(shard.current.size() + shard.previous.size());
    }
    return total;
}
