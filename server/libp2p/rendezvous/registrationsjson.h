#pragma once

#include <QByteArray>

class RegistrationStore;

// The operators' view of the registrations (GET /rendezvous.json): per namespace, each peer
// with its addresses and the seconds it has left. No signatures: operators read, peers verify.
namespace RegistrationsJson {
QByteArray render(RegistrationStore &store);
}
