// libFuzzer target: what a client controls of per-client access. Its header lines (as a
// trusted proxy passes them on: X-Forwarded-For, Forwarded, X-Real-IP) name the client; its
// Authorization header meets the operators' door. Properties: the headers of an untrusted peer
// are never read, and a trusted peer's name a client that is either the peer or an address the
// headers spelt.
#include "access/clientaddress.h"
#include "access/operatordoor.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    static const TrustedProxies proxies = [] {
        QString error;
        return *TrustedProxies::parse({QStringLiteral("10.0.0.0/8"), QStringLiteral("fd00::/8")},
                                      &error);
    }();
    const QHostAddress trusted(QStringLiteral("10.0.0.1"));
    const QHostAddress untrusted(QStringLiteral("192.0.2.1"));
    if (proxies.clientOf(untrusted, bytes) != untrusted)
        std::abort();
    const QHostAddress client = proxies.clientOf(trusted, bytes);
    if (client != trusted && client.protocol() == QAbstractSocket::UnknownNetworkLayerProtocol)
        std::abort();
    limitKey(client);

    static const OperatorDoor door = OperatorDoor::withPassword("fuzz");
    door.admits(bytes);
    return 0;
}
