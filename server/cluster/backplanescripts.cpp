#include "backplanescripts.h"

#include <QCryptographicHash>

namespace {

BackplaneScripts::Script makeScript(const char *source)
{
    const QByteArray text(source);
    return {text, QCryptographicHash::hash(text, QCryptographicHash::Sha1).toHex()};
}

} // namespace

const BackplaneScripts::Script &BackplaneScripts::publish()
{
    static const Script script = makeScript(R"lua(
local peers, seen, events, gone = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, lastSeen, offline = ARGV[3], ARGV[4], ARGV[2] == 'offline'
local stamp = tonumber(lastSeen)
local left = redis.call('ZSCORE', gone, id)
if left and tonumber(left) >= stamp then return false end
local current = redis.call('ZSCORE', seen, id)
if current and (tonumber(current) > stamp or (tonumber(current) == stamp and not offline)) then
  return false
end
if offline then
  redis.call('HDEL', peers, id)
  redis.call('ZREM', seen, id)
  redis.call('ZADD', gone, lastSeen, id)
  redis.call('ZREMRANGEBYSCORE', gone, '-inf', '(' .. ARGV[7])
else
  redis.call('HSET', peers, id, lastSeen .. ' ' .. ARGV[5])
  redis.call('ZADD', seen, lastSeen, id)
  redis.call('ZREM', gone, id)
end
return redis.call('XADD', events, 'MAXLEN', '~', ARGV[6], '*',
                  'i', ARGV[1], 's', lastSeen, 'm', ARGV[5])
)lua");
    return script;
}

const BackplaneScripts::Script &BackplaneScripts::expire()
{
    static const Script script = makeScript(R"lua(
local peers, seen, events, gone = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local stale = redis.call('ZRANGEBYSCORE', seen, '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0,
                         tonumber(ARGV[5]))
for i = 1, #stale, 2 do
  local id = stale[i]
  redis.call('ZREM', seen, id)
  redis.call('HDEL', peers, id)
  redis.call('ZADD', gone, stale[i + 1], id)
  redis.call('XADD', events, 'MAXLEN', '~', ARGV[4], '*', 'i', ARGV[2], 'e', id, 't', ARGV[3],
             's', stale[i + 1])
end
redis.call('ZREMRANGEBYSCORE', gone, '-inf', '(' .. ARGV[6])
return #stale / 2
)lua");
    return script;
}

const BackplaneScripts::Script &BackplaneScripts::snapshot()
{
    static const Script script = makeScript(R"lua(
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local id = '0-0'
if #last > 0 then id = last[1][1] end
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[3], epoch)
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', ARGV[2])
for i = 1, #expired do redis.call('HDEL', KEYS[6], expired[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', ARGV[2])
return {id, epoch, redis.call('HGETALL', KEYS[1]),
        redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES'), redis.call('HGETALL', KEYS[5]),
        redis.call('HGETALL', KEYS[6])}
)lua");
    return script;
}

const BackplaneScripts::Script &BackplaneScripts::webSocket()
{
    static const Script script = makeScript(R"lua(
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
elseif redis.call('HGET', KEYS[1], ARGV[2]) == ARGV[1] then
  redis.call('HDEL', KEYS[1], ARGV[2])
else
  return false
end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'i', ARGV[1], 'w', ARGV[2],
                  'c', ARGV[3])
)lua");
    return script;
}

const BackplaneScripts::Script &BackplaneScripts::registerRendezvous()
{
    // Record seqs are compared as decimal text (longer is larger): they exceed a Lua number's
    // exact range (go-libp2p's are Unix nanoseconds).
    static const Script script = makeScript(R"lua(
local registrations, expiry, events = KEYS[1], KEYS[2], KEYS[3]
local key, value, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local expires, seq = string.match(value, '^(%d+) (%d+) ')
if not expires then return redis.error_reply('malformed rendezvous registration') end
local stale = redis.call('ZRANGEBYSCORE', expiry, '-inf', now, 'LIMIT', 0, 100)
for i = 1, #stale do
  redis.call('HDEL', registrations, stale[i])
  redis.call('ZREM', expiry, stale[i])
end
if tonumber(expires) <= now then return false end
local held = redis.call('HGET', registrations, key)
if held then
  local heldSeq = string.match(held, '^%d+ (%d+) ')
  if heldSeq and (#heldSeq > #seq or (#heldSeq == #seq and heldSeq > seq)) then return false end
end
redis.call('HSET', registrations, key, value)
redis.call('ZADD', expiry, expires, key)
return redis.call('XADD', events, 'MAXLEN', '~', ARGV[5], '*', 'i', ARGV[1], 'r', key, 'v', value)
)lua");
    return script;
}

const BackplaneScripts::Script &BackplaneScripts::unregisterRendezvous()
{
    static const Script script = makeScript(R"lua(
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
return redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'i', ARGV[1], 'u', ARGV[2])
)lua");
    return script;
}
