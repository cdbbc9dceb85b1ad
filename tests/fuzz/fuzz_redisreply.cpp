// libFuzzer target: what the cluster reads from Redis. The bytes are Redis's protocol, parsed
// by hiredis's own reader into reply trees of any shape, which ClusterReplies decodes as the
// backplane does (XREAD's stream entries, the snapshot script's answer), then the rendezvous
// registrations in them as ClusterRendezvous decodes them. Properties: nothing is read past a
// reply, a snapshot never counts more peers than rows, and a decoded registration is its key's
// peer's.
#include "cluster/clusterreplies.h"
#include "libp2p/rendezvous/sharedregistration.h"

#include <cstdint>
#include <cstdlib>
#include <hiredis.h>

namespace {

// hiredis 0.14 (Debian 12's) allocates an aggregate's element array as soon as it reads its
// header, with no cap (later versions have maxelements): "*900000000" is gigabytes before a
// single element arrives. That is the library's, and our Redis is our own, so such inputs are
// left out; every other shape is fair game.
bool declaresHugeAggregate(const char *data, size_t size)
{
    for (size_t i = 0; i < size; ++i) {
        if (data[i] != '*' && data[i] != '%' && data[i] != '~' && data[i] != '>')
            continue;
        quint64 count = 0;
        for (size_t j = i + 1; j < size && data[j] >= '0' && data[j] <= '9'; ++j) {
            count = count * 10 + quint64(data[j] - '0');
            if (count > 100000)
                return true;
        }
    }
    return false;
}

void decodeRegistration(const QByteArray &key, const QByteArray &value)
{
    const auto registration = SharedRegistration::decode(key, value);
    const auto nsAndPeer = SharedRegistration::decodeKey(key);
    if (registration && (!nsAndPeer || registration->peer != nsAndPeer->second ||
                         !value.endsWith(registration->signedPeerRecord)))
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (declaresHugeAggregate(reinterpret_cast<const char *>(data), size))
        return 0;
    redisReader *reader = redisReaderCreate();
    redisReaderFeed(reader, reinterpret_cast<const char *>(data), size);
    void *reply = nullptr;
    while (redisReaderGetReply(reader, &reply) == REDIS_OK && reply) {
        const auto *tree = static_cast<const redisReply *>(reply);
        for (const ClusterReplies::StreamEntry &entry : ClusterReplies::streamEntries(tree)) {
            PresenceMessage::parse(entry.json, PresenceMessage::Source::Server);
            decodeRegistration(entry.registrationKey, entry.registrationValue);
            SharedRegistration::decodeKey(entry.unregistrationKey);
        }
        QString error;
        const auto snapshot = ClusterReplies::snapshot(tree, &error);
        if (snapshot && snapshot->peerCount > snapshot->rows.size())
            std::abort();
        if (!snapshot && error.isEmpty())
            std::abort();
        if (snapshot) {
            for (const auto &[key, value] : snapshot->rendezvousRegistrations)
                decodeRegistration(key, value);
        }
        freeReplyObject(reply);
        reply = nullptr;
    }
    redisReaderFree(reader);
    return 0;
}
