#pragma once

#include <QByteArrayView>
#include <QHostAddress>
#include <QList>
#include <QStringList>

#include <optional>

// Who a request comes from. The TCP peer, unless it is one of the operator's proxies: then the
// client the proxy names in X-Forwarded-For, Forwarded or X-Real-IP (the first of these present,
// in that order: Caddy always sets X-Forwarded-For, the nginx lines in docs/ do too, so a
// Forwarded header a client forges through them is never read). In a list of hops the client
// is the right-most one that is not itself a trusted proxy: everything left of it was written
// by the client and proves nothing. From anyone else the headers are ignored.
class TrustedProxies
{
public:
    // "10.0.0.0/8", "2001:db8::/32" or a single address; nullopt and a one-line reason when
    // one of them is not a subnet.
    static std::optional<TrustedProxies> parse(const QStringList &subnets, QString *error);

    bool isEmpty() const { return m_subnets.isEmpty(); }
    bool contains(const QHostAddress &address) const;

    // `peer`'s client, read from `headerLines` ("Name: value" lines, CRLF or LF) when `peer` is
    // trusted. A hop the proxy could not name ("unknown", an obfuscated name, garbage) stops
    // the walk at the proxy that passed it on.
    QHostAddress clientOf(const QHostAddress &peer, QByteArrayView headerLines) const;

private:
    QList<QPair<QHostAddress, int>> m_subnets;
};

// An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d; limits and logs want a.b.c.d.
QHostAddress plainAddress(const QHostAddress &address);

// What per-client limits are keyed on: an IPv4 address, or an IPv6 address's /64 (a home or a
// server gets a whole /64, and could otherwise take a fresh address for every request).
QByteArray limitKey(const QHostAddress &address);
