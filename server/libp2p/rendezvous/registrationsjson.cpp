#include "registrationsjson.h"

#include "registrationstore.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <map>

QByteArray RegistrationsJson::render(RegistrationStore &store)
{
    const qint64 now = store.now();
    std::map<QString, QJsonArray> byNamespace;
    for (const RegistrationStore::Registration &registration : store.snapshot()) {
        QJsonArray addresses;
        for (const Multiaddr &address : registration.addresses)
            addresses.append(address.toText());
        byNamespace[registration.ns].append(QJsonObject{
            {QStringLiteral("peer_id"), registration.peer.toText()},
            {QStringLiteral("addrs"), addresses},
            {QStringLiteral("ttl_remaining"),
             qMax<qint64>(1, (registration.expiresAt - now + 999) / 1000)},
        });
    }
    QJsonArray namespaces;
    int total = 0;
    for (const auto &[ns, registrations] : byNamespace) {
        total += int(registrations.size());
        namespaces.append(QJsonObject{{QStringLiteral("namespace"), ns},
                                      {QStringLiteral("registrations"), registrations}});
    }
    return QJsonDocument(QJsonObject{{QStringLiteral("total"), total},
                                     {QStringLiteral("namespaces"), namespaces}})
        .toJson(QJsonDocument::Compact);
}
