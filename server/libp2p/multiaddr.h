#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QString>

#include <optional>
#include <vector>

// A multiaddress (text "/ip4/1.2.3.4/tcp/4001/p2p/12D3…" and the binary form that identify
// carries), for the protocols a relay and a rendezvous point meet: ip4, ip6, dns, dns4, dns6,
// dnsaddr, tcp, udp, quic-v1, ws, wss, p2p and p2p-circuit.
class Multiaddr
{
public:
    enum Code : quint32
    {
        Ip4 = 4,
        Tcp = 6,
        Ip6 = 41,
        Dns = 53,
        Dns4 = 54,
        Dns6 = 55,
        Dnsaddr = 56,
        Udp = 273,
        P2pCircuit = 290,
        P2p = 421,
        QuicV1 = 461,
        Ws = 477,
        Wss = 478
    };

    struct Component
    {
        quint32 code = 0;
        QByteArray value; // the binary value, without its length prefix
        bool operator==(const Component &other) const
        {
            return code == other.code && value == other.value;
        }
    };

    static std::optional<Multiaddr> fromText(const QString &text, QString *error = nullptr);
    static std::optional<Multiaddr> fromBytes(const QByteArray &bytes);
    static Multiaddr tcp(const QHostAddress &address, quint16 port);

    QString toText() const;
    QByteArray toBytes() const;
    const std::vector<Component> &components() const { return m_components; }

    // For an /ip4|ip6/…/tcp/… address (nothing after): where to listen or dial.
    std::optional<std::pair<QHostAddress, quint16>> tcpEndpoint() const;

    bool operator==(const Multiaddr &other) const { return m_components == other.m_components; }

private:
    std::vector<Component> m_components;
};
