#pragma once

#include <QByteArray>
#include <QString>

#include <optional>
#include <vector>

// The rendezvous protocol's one protobuf message (libp2p/specs rendezvous/README.md): a type and
// the part for it. Proof of work is left out: we never ask for it, so its fields are ignored.
class RendezvousMessage
{
public:
    enum Type : quint64
    {
        Register = 0,
        RegisterResponse = 1,
        Unregister = 2,
        Discover = 3,
        DiscoverResponse = 4
    };
    enum Status : quint64
    {
        Ok = 0,
        InvalidNamespace = 100,
        InvalidSignedPeerRecord = 101,
        InvalidTtl = 102,
        InvalidCookie = 103,
        PowRequired = 104,
        DifficultyTooLow = 105,
        NotAuthorized = 200,
        InternalError = 300,
        Unavailable = 400
    };

    struct Registration // Message.Register
    {
        QString ns;
        QByteArray signedPeerRecord; // a signed envelope holding a peer record
        std::optional<qint64> ttl;   // seconds
    };
    struct RegisterResult // Message.RegisterResponse
    {
        Status status = Ok;
        QString statusText;
        std::optional<qint64> ttl;
    };
    struct Unregistration // Message.Unregister
    {
        QString ns;
        QByteArray id;
    };
    struct Query // Message.Discover
    {
        QString ns;
        std::optional<qint64> limit;
        QByteArray cookie;
    };
    struct QueryResult // Message.DiscoverResponse
    {
        std::vector<Registration> registrations;
        QByteArray cookie;
        Status status = Ok;
        QString statusText;
    };

    Type type = Register;
    std::optional<Registration> registration;
    std::optional<RegisterResult> registerResult;
    std::optional<Unregistration> unregistration;
    std::optional<Query> query;
    std::optional<QueryResult> queryResult;

    QByteArray encode() const;
    // Nothing when the protobuf is malformed; fields of the wrong wire type are ignored.
    static std::optional<RendezvousMessage> decode(const QByteArray &bytes);
};
