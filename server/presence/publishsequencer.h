#pragma once

#include "presencemessage.h"

#include <functional>

// Puts the publishes of several instances into one order (the cluster's Redis backplane).
// While it does, an instance does not apply its own publishes at once: they come back through
// PresenceService::applyReplicated() like every other instance's, so that every instance
// applies and announces the same events in the same order.
class PublishSequencer
{
public:
    virtual ~PublishSequencer() = default;

    // Takes `message`, stamped `lastSeenUs`, to be ordered; `applied` (may be empty) is called
    // in the sequencer's thread once this instance has applied it, or once it is known that
    // something newer for the peer overtook it. Returns false when it cannot order now: the
    // caller then applies the message itself. Called from any thread.
    virtual bool sequence(const PresenceMessage &message, qint64 lastSeenUs,
                          std::function<void()> applied) = 0;
};
