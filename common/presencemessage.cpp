#include "presencemessage.h"

#include "jsonreader.h"
#include "jsonwriter.h"
#include "textquote.h"

#include <QString>

namespace {

// Go compares white space by Unicode's rules (strings.TrimSpace); QString::trimmed() uses the
// same set. ASCII-only values, the normal case, skip the conversion.
QByteArray trimmed(const QByteArray &utf8)
{
    const auto plain = [](char c) { return c > ' ' && static_cast<unsigned char>(c) < 0x80; };
    if (utf8.isEmpty() || (plain(utf8.front()) && plain(utf8.back())))
        return utf8;
    return QString::fromUtf8(utf8).trimmed().toUtf8();
}

// Go matches JSON keys to fields exactly first, then without regard to case.
bool namesField(const QByteArray &name, QByteArrayView field)
{
    return name.compare(field, Qt::CaseInsensitive) == 0;
}

// Members only the server may set: a peer's are dropped, never stored, sent or logged.
bool namesServerField(const QByteArray &name)
{
    return namesField(name, "verificationToken") || namesField(name, "verified") ||
           namesField(name, "target");
}

// What `email` and `addrs` must be, checked as the current Go server decodes them: a string
// (or null), and an array of at most 20 strings (or null) of at most 256 bytes each.
using Error = PresenceMessage::Error;

std::optional<Error> checkEmail(QByteArrayView value)
{
    if (JsonReader::isNull(value))
        return std::nullopt;
    const auto email = JsonReader::decodeString(value);
    if (!email)
        return Error{Error::Kind::BadJson, "bad json"};
    if (email->size() > PresenceMessage::maxEmailBytes)
        return Error{Error::Kind::EmailTooLong, "bad message: email too long"};
    return std::nullopt;
}

std::optional<Error> checkAddrs(QByteArrayView value)
{
    if (JsonReader::isNull(value))
        return std::nullopt;
    const auto addrs = JsonReader::readArray(value);
    if (!addrs)
        return Error{Error::Kind::BadJson, "bad json"};
    std::optional<Error> tooLong;
    for (const QByteArrayView addr : *addrs) {
        if (JsonReader::isNull(addr))
            continue;
        const auto text = JsonReader::decodeString(addr);
        if (!text)
            return Error{Error::Kind::BadJson, "bad json"};
        if (text->size() > PresenceMessage::maxAddrBytes)
            tooLong = Error{Error::Kind::AddrTooLong, "bad message: addr too long"};
    }
    if (addrs->size() > PresenceMessage::maxAddrs)
        return Error{Error::Kind::TooManyAddrs, "bad message: too many addrs"};
    return tooLong;
}

} // namespace

std::variant<PresenceMessage, PresenceMessage::Error> PresenceMessage::parse(QByteArrayView json,
                                                                             Source source)
{
    const Error badJson{Error::Kind::BadJson, "bad json"};
    const auto members = JsonReader::readObject(json);
    if (!members)
        return badJson;

    QByteArray type;
    PresenceMessage message;
    // Type errors are found while decoding (`bad json`), limits afterwards in their order.
    std::optional<Error> emailError, addrsError;
    for (const JsonReader::Member &member : *members) {
        const auto readString = [&](QByteArray &field) {
            if (JsonReader::isNull(member.text))
                return true;
            const auto decoded = JsonReader::decodeString(member.text);
            if (decoded)
                field = *decoded;
            return decoded.has_value();
        };
        bool ok = true;
        if (namesField(member.name, "type")) {
            ok = readString(type);
        } else if (namesField(member.name, "peerId")) {
            ok = readString(message.peerId);
        } else if (namesField(member.name, "content")) {
            ok = readString(message.content);
        } else if (namesField(member.name, "ts")) {
            const auto ts = JsonReader::isNull(member.text)
                                ? std::optional<qint64>(0)
                                : JsonReader::decodeInteger(member.text);
            ok = ts.has_value();
            message.ts = ts.value_or(0);
        } else if (namesServerField(member.name)) {
            if (source == Source::Server && namesField(member.name, "verified"))
                message.verified = member.text == "true";
            continue;
        } else {
            if (namesField(member.name, "email"))
                emailError = checkEmail(member.text);
            else if (namesField(member.name, "addrs"))
                addrsError = checkAddrs(member.text);
            for (const auto *error : {&emailError, &addrsError})
                if (*error && (*error)->kind == Error::Kind::BadJson)
                    return badJson;
            if (!message.extraMembers.isEmpty())
                message.extraMembers.append(',');
            JsonWriter::appendString(message.extraMembers, member.name);
            message.extraMembers.append(':');
            message.extraMembers.append(JsonReader::compact(member.text));
        }
        if (!ok)
            return badJson;
    }

    const QByteArray trimmedType = trimmed(type);
    if (trimmedType.isEmpty() || trimmed(message.peerId).isEmpty())
        return Error{Error::Kind::MissingFields, "bad message: type and peerId are required"};
    if (trimmedType == "online")
        message.type = Type::Online;
    else if (trimmedType == "update")
        message.type = Type::Update;
    else if (trimmedType == "offline")
        message.type = Type::Offline;
    else
        return Error{Error::Kind::UnknownType,
                     "bad message: unknown type " + goQuoted(trimmedType)};
    if (message.peerId.size() > maxPeerIdBytes)
        return Error{Error::Kind::PeerIdTooLong, "bad message: peerId too long"};
    if (message.content.size() > maxContentBytes)
        return Error{Error::Kind::ContentTooLong, "bad message: content too long"};
    if (emailError)
        return *emailError;
    if (addrsError)
        return *addrsError;
    return message;
}

QByteArray PresenceMessage::toJson() const
{
    QByteArray out;
    out.reserve(48 + peerId.size() + content.size() + extraMembers.size());
    out.append("{\"type\":\"").append(typeName(type)).append("\",\"peerId\":");
    JsonWriter::appendString(out, peerId);
    if (!content.isEmpty()) {
        out.append(",\"content\":");
        JsonWriter::appendString(out, content);
    }
    out.append(",\"ts\":");
    JsonWriter::appendInteger(out, ts);
    if (!extraMembers.isEmpty())
        out.append(',').append(extraMembers);
    if (verified)
        out.append(",\"verified\":true");
    out.append('}');
    return out;
}

QByteArrayView PresenceMessage::typeName(Type type)
{
    switch (type) {
    case Type::Online:
        return "online";
    case Type::Update:
        return "update";
    case Type::Offline:
        return "offline";
    }
    return {};
}
