#pragma once

#include "multiaddr.h"
#include "multistreamselect.h"
#include "peerid.h"
#include "streamhandler.h"

#include <memory>
#include <optional>

class Libp2pConnection;

// One Yamux stream of a connection: first multistream-select, then its protocol's handler.
class Libp2pStream
{
public:
    quint32 id() const { return m_id; }
    QByteArray protocol() const { return m_select.protocol(); }
    PeerId remotePeer() const;
    Multiaddr remoteAddress() const;

    qsizetype write(const QByteArray &bytes); // see YamuxSession::write
    void closeWrite();
    void reset();

    // A stream whose bytes go on at another stream's pace (a relayed circuit) gives the peer
    // more window only as it hands bytes on, through consumed(); by default all that is
    // received counts as consumed at once.
    void setManualFlowControl(bool manual) { m_manualFlowControl = manual; }
    void consumed(quint32 bytes);
    quint32 sendWindow() const;    // what the peer lets us send now
    qsizetype unsentBytes() const; // written, waiting for the peer's window

private:
    friend class Libp2pConnection;
    Libp2pStream(Libp2pConnection &connection, quint32 id, MultistreamSelect select,
                 std::unique_ptr<StreamHandler> handler);

    Libp2pConnection &m_connection;
    quint32 m_id;
    MultistreamSelect m_select;
    std::unique_ptr<StreamHandler> m_handler; // set once negotiated (inbound) or from the start
    bool m_manualFlowControl = false;
    bool m_reset = false; // by us: nothing more reaches the handler
};
