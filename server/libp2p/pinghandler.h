#pragma once

#include "streamhandler.h"

// /ipfs/ping/1.0.0: every 32 bytes the peer sends are sent back, until it closes.
class PingHandler : public StreamHandler
{
public:
    static constexpr char protocolId[] = "/ipfs/ping/1.0.0";
    static constexpr int payloadBytes = 32;

    void received(Libp2pStream &stream, const QByteArray &bytes) override;

private:
    QByteArray m_partial; // fewer than 32 bytes: a ping still arriving
};
