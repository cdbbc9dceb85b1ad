// libFuzzer target: a publish body as a peer sends it. Properties: an accepted message is
// written back as JSON that parses to the same message (type, peer, content, ts, extra fields),
// and what a peer may not set (verificationToken, verified, target) never survives it.
#include "jsonreader.h"
#include "presencemessage.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    auto parsed = PresenceMessage::parse(bytes);
    const auto *message = std::get_if<PresenceMessage>(&parsed);
    if (!message)
        return 0;
    const QByteArray json = message->toJson();
    auto again = PresenceMessage::parse(json, PresenceMessage::Source::Server);
    const auto *back = std::get_if<PresenceMessage>(&again);
    if (!back || back->type != message->type || back->peerId != message->peerId ||
        back->content != message->content || back->ts != message->ts || back->toJson() != json)
        std::abort();
    // Keys match as Go matches them, without regard to case.
    const auto members = JsonReader::readObject(json);
    if (!members)
        std::abort();
    for (const JsonReader::Member &member : *members) {
        const QByteArray name = member.name.toLower();
        if (name == "verificationtoken" || name == "target" || name == "verified")
            std::abort();
    }
    return 0;
}
