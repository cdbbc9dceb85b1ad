#pragma once

#include <QByteArray>

#include <optional>
#include <vector>

// The circuit relay v2 messages (libp2p specs, relay/circuit-v2.md, "Protobuf"): HopMessage
// between a client and the relay, StopMessage between the relay and a circuit's target.
namespace RelayMessages {

inline constexpr char hopProtocolId[] = "/libp2p/circuit/relay/0.2.0/hop";
inline constexpr char stopProtocolId[] = "/libp2p/circuit/relay/0.2.0/stop";
// Far above any message the spec defines (a reservation carries a few addresses and a voucher
// of under 200 bytes); a longer one is refused before it is buffered.
inline constexpr qsizetype maxMessageBytes = 4096;

enum class Status : quint32
{
    Ok = 100,
    ReservationRefused = 200,
    ResourceLimitExceeded = 201,
    PermissionDenied = 202,
    ConnectionFailed = 203,
    NoReservation = 204,
    MalformedMessage = 400,
    UnexpectedMessage = 401
};

struct Peer
{
    QByteArray id; // the peer ID's binary multihash
    std::vector<QByteArray> addrs;
};

struct Reservation
{
    std::optional<quint64> expire; // UNIX seconds (UTC)
    std::vector<QByteArray> addrs; // binary multiaddresses, ending in the relay's /p2p
    QByteArray voucher;            // a signed envelope; empty: none
};

struct Limit
{
    std::optional<quint32> duration; // seconds; 0 or absent: none
    std::optional<quint64> data;     // bytes in each direction; 0 or absent: none
};

struct HopMessage
{
    enum Type : quint32
    {
        Reserve = 0,
        Connect = 1,
        StatusType = 2
    };
    Type type = Reserve;
    std::optional<Peer> peer;
    std::optional<Reservation> reservation;
    std::optional<Limit> limit;
    std::optional<Status> status;

    QByteArray encode() const;
    // Nothing when malformed: no type, an unknown type, or a field of the wrong wire type.
    static std::optional<HopMessage> decode(const QByteArray &bytes);
};

struct StopMessage
{
    enum Type : quint32
    {
        Connect = 0,
        StatusType = 1
    };
    Type type = Connect;
    std::optional<Peer> peer;
    std::optional<Limit> limit;
    std::optional<Status> status;

    QByteArray encode() const;
    static std::optional<StopMessage> decode(const QByteArray &bytes);
};

// A message with its uvarint length in front, as the hop and stop streams carry them.
QByteArray frame(const QByteArray &message);

// Reads one length-prefixed message from the front of a stream's bytes.
class FrameReader
{
public:
    enum class State
    {
        NeedMore,
        Ready,
        Failed // a bad length, or one beyond maxMessageBytes
    };

    // Adds bytes; Ready once a whole message is in (what follows it stays, see remainder()).
    State feed(const QByteArray &bytes);
    QByteArray message() const { return m_message; }
    // What came after the message: the circuit's first bytes, for instance.
    QByteArray takeRemainder() { return std::exchange(m_buffer, QByteArray()); }

private:
    QByteArray m_buffer;
    QByteArray m_message;
    State m_state = State::NeedMore;
};

} // namespace RelayMessages
