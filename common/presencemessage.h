#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <variant>

// One presence message as peers publish it and subscribers receive it (PROTOCOL.md).
struct PresenceMessage
{
    enum class Type
    {
        Online,
        Update,
        Offline
    };

    static constexpr qsizetype maxPeerIdBytes = 256;
    static constexpr qsizetype maxContentBytes = 4096;
    static constexpr qsizetype maxEmailBytes = 320;
    static constexpr qsizetype maxAddrs = 20;
    static constexpr qsizetype maxAddrBytes = 256;

    Type type = Type::Online;
    QByteArray peerId;  // UTF-8, exactly as the peer sent it
    QByteArray content; // UTF-8, may be empty
    qint64 ts = 0;      // Unix milliseconds; 0 means "not set"
    // Fields this server passes on without interpreting them (`email` and `addrs` are checked,
    // not changed), as compact JSON members (`"k":v,"k2":v2`) in the order the peer sent them,
    // so that newer peers' data reaches subscribers unchanged.
    QByteArray extraMembers;
    // Owned by the server, never taken from a peer (PROTOCOL.md, "Fields the server owns");
    // written as `"verified":true` when set.
    bool verified = false;

    // Why a publish was rejected, and the text it is answered with (PROTOCOL.md, "POST
    // /publish: errors" and "Fields the server owns"), in the order the checks run.
    struct Error
    {
        enum class Kind
        {
            BadJson,
            MissingFields,
            UnknownType,
            PeerIdTooLong,
            ContentTooLong,
            EmailTooLong,
            TooManyAddrs,
            AddrTooLong
        };
        Kind kind;
        QByteArray text;
    };

    // Whose JSON is parsed. A peer's loses the members the server owns (`verificationToken`, a
    // credential that must never leave the server; `verified`; `target`); the server's own (as
    // it wrote it, read back from the cluster's store) keeps `verified`.
    enum class Source
    {
        Peer,
        Server
    };

    static std::variant<PresenceMessage, Error> parse(QByteArrayView json,
                                                      Source source = Source::Peer);

    // `{"type":…,"peerId":…,"content":…,"ts":…}` plus the extra members and `verified`, on one
    // line, the way the Go server writes it (content left out when empty).
    QByteArray toJson() const;

    static QByteArrayView typeName(Type type);
};
