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

} // namespace

std::variant<PresenceMessage, PresenceMessage::Error> PresenceMessage::parse(QByteArrayView json)
{
    const Error badJson{"bad json"};
    const auto members = JsonReader::readObject(json);
    if (!members)
        return badJson;

    QByteArray type;
    PresenceMessage message;
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
        } else {
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
        return Error{"bad message: type and peerId are required"};
    if (trimmedType == "online")
        message.type = Type::Online;
    else if (trimmedType == "update")
        message.type = Type::Update;
    else if (trimmedType == "offline")
        message.type = Type::Offline;
    else
        return Error{"bad message: unknown type " + goQuoted(trimmedType)};
    if (message.peerId.size() > maxPeerIdBytes)
        return Error{"bad message: peerId too long"};
    if (message.content.size() > maxContentBytes)
        return Error{"bad message: content too long"};
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
