#include "addressplaces.h"

std::shared_ptr<AddressPlaces> AddressPlaces::create(int maxPerAddress)
{
    return std::shared_ptr<AddressPlaces>(new AddressPlaces(maxPerAddress));
}

AddressPlaces::Place AddressPlaces::take(const QByteArray &key, bool beyondCap)
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        int &held = m_held[key];
        if (m_maxPerAddress > 0 && held >= m_maxPerAddress && !beyondCap)
            return nullptr; // the entry stays: the address holds places
        ++held;
    }
    // Not null (a null shared_ptr tests false even with a deleter); it keeps the places alive.
    return Place(static_cast<void *>(this),
                 [places = shared_from_this(), key](void *) { places->giveBack(key); });
}

void AddressPlaces::giveBack(const QByteArray &key)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    const auto found = m_held.find(key);
    if (found != m_held.end() && --*found <= 0)
        m_held.erase(found);
}

int AddressPlaces::addresses() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return int(m_held.size());
}
