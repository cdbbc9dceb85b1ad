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

    Type type = Type::Online;
    QByteArray peerId;  // UTF-8, exactly as the peer sent it
    QByteArray content; // UTF-8, may be empty
    qint64 ts = 0;      // Unix milliseconds; 0 means "not set"
    // Fields this server does not interpret, as compact JSON members (`"k":v,"k2":v2`) in the
    // order the peer sent them, so that newer peers' data reaches subscribers unchanged.
    QByteArray extraMembers;

    // The error text a rejected publish answers with (PROTOCOL.md, "POST /publish: errors").
    struct Error
    {
        QByteArray text;
    };

    static std::variant<PresenceMessage, Error> parse(QByteArrayView json);

    // `{"type":…,"peerId":…,"content":…,"ts":…}` plus the extra members, on one line, the way
    // the Go server writes it (content left out when empty).
    QByteArray toJson() const;

    static QByteArrayView typeName(Type type);
};
