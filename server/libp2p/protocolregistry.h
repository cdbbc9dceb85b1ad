#pragma once

#include "streamhandler.h"

#include <QByteArray>

#include <functional>
#include <map>
#include <memory>
#include <vector>

// The protocols the host answers on inbound streams, by protocol ID: identify and ping now,
// the relay and rendezvous protocols as they come.
class ProtocolRegistry
{
public:
    using Factory = std::function<std::unique_ptr<StreamHandler>()>;

    void add(const QByteArray &protocol, Factory factory);
    bool supports(const QByteArray &protocol) const;
    std::unique_ptr<StreamHandler> create(const QByteArray &protocol) const;
    std::vector<QByteArray> protocols() const;

private:
    std::map<QByteArray, Factory> m_factories;
};
