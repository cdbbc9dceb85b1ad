#pragma once

#include <QByteArray>

#include <map>
#include <vector>

// A Yamux session (/yamux/1.0.0, the hashicorp spec as libp2p uses it) over bytes: 12-byte
// headers, per-stream flow control with window updates, pings and go-away. Bounded: a peer
// may not send past the window we granted (a protocol error), our unsent bytes per stream are
// capped, and so is the number of streams.
class YamuxSession
{
public:
    static constexpr char protocolId[] = "/yamux/1.0.0";
    static constexpr int headerBytes = 12;
    static constexpr quint32 initialWindow = 256 * 1024;

    enum class Role
    {
        Client, // the dialer: odd stream IDs
        Server  // the listener: even stream IDs
    };

    enum FrameType : quint8
    {
        Data = 0,
        WindowUpdate = 1,
        Ping = 2,
        GoAway = 3
    };
    enum Flag : quint16
    {
        Syn = 1,
        Ack = 2,
        Fin = 4,
        Rst = 8
    };
    enum GoAwayCode : quint32
    {
        Normal = 0,
        ProtocolError = 1,
        InternalError = 2
    };

    struct Options
    {
        int maxStreams = 256;                     // open at once; more are reset
        qsizetype maxUnsentBytes = initialWindow; // per stream, beyond the peer's window
        quint32 maxFrameBytes = 16 * 1024;        // of the data frames we send
    };

    struct Event
    {
        enum Type
        {
            Opened,       // the peer opened a stream
            Received,     // bytes on a stream: call consumed() once they are handled
            RemoteClosed, // the peer will send no more (FIN)
            Reset,        // the peer reset the stream, or the session failed
            Drained       // all we wrote has been sent: write more
        };
        Type type;
        quint32 stream;
        QByteArray data;
    };

    YamuxSession(Role role, Options options);
    YamuxSession(Role role) : YamuxSession(role, Options()) {}

    void feed(const QByteArray &bytes);
    QByteArray takeOutput() { return std::exchange(m_output, QByteArray()); }
    std::vector<Event> takeEvents() { return std::exchange(m_events, {}); }

    quint32 openStream(); // 0 when no more streams may be opened
    // Queues bytes and sends what the peer's window allows; returns how many were taken (less
    // than given once the stream's unsent bytes reach the cap; wait for Drained).
    qsizetype write(quint32 stream, const QByteArray &bytes);
    void closeWrite(quint32 stream); // FIN, after what is queued
    void reset(quint32 stream);
    // The application handled `bytes` received on the stream: the peer may send that much
    // more (sent as a window update once half the window is consumed).
    void consumed(quint32 stream, quint32 bytes);
    void goAway(GoAwayCode code);

    bool failed() const { return m_failed; }
    bool remoteWentAway() const { return m_remoteWentAway; }
    QByteArray error() const { return m_error; }
    int streamCount() const { return int(m_streams.size()); }
    bool hasStream(quint32 stream) const { return m_streams.count(stream) != 0; }
    qsizetype unsentBytes(quint32 stream) const;
    quint32 sendWindow(quint32 stream) const;

private:
    struct Stream
    {
        quint32 sendWindow = initialWindow;
        quint32 receiveWindow = initialWindow; // what the peer may still send
        quint32 consumedUnacknowledged = 0;
        QByteArray unsent;
        bool finQueued = false;
        bool finSent = false;
        bool finReceived = false;
        bool synPending = false; // we opened it and have not sent the SYN yet
        bool ackPending = false; // the peer opened it and has no ACK yet
    };

    void sendHeader(FrameType type, quint16 flags, quint32 stream, quint32 length);
    quint16 takeOpeningFlags(Stream &stream);
    void flush(quint32 id, Stream &stream);
    void protocolError(const QByteArray &why);
    void handleFrame(quint8 type, quint16 flags, quint32 id, quint32 length,
                     const QByteArray &payload);
    Stream *acceptOrFind(quint16 flags, quint32 id, bool *refused);
    void removeIfDone(quint32 id);

    Role m_role;
    Options m_options;
    quint32 m_nextStreamId;
    std::map<quint32, Stream> m_streams;
    QByteArray m_input;
    QByteArray m_output;
    std::vector<Event> m_events;
    bool m_failed = false;
    bool m_remoteWentAway = false;
    bool m_wentAway = false;
    QByteArray m_error;
};
