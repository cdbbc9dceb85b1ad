#include "protocolregistry.h"

void ProtocolRegistry::add(const QByteArray &protocol, Factory factory)
{
    m_factories[protocol] = std::move(factory);
}

bool ProtocolRegistry::supports(const QByteArray &protocol) const
{
    return m_factories.count(protocol) != 0;
}

std::unique_ptr<StreamHandler> ProtocolRegistry::create(const QByteArray &protocol) const
{
    const auto it = m_factories.find(protocol);
    return it == m_factories.end() ? nullptr : it->second();
}

std::vector<QByteArray> ProtocolRegistry::protocols() const
{
    std::vector<QByteArray> names;
    for (const auto &entry : m_factories)
        names.push_back(entry.first);
    return names;
}
