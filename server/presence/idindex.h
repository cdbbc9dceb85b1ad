#pragma once

#include <QByteArrayView>
#include <QHashFunctions>

#include <vector>

// Items found by the ID each holds itself (T::id()): a stored peer by its escaped peer ID.
// A slot is the item's pointer and one byte of its hash, 9 bytes, and the table fills to 7/8
// before it doubles: 12-24 bytes an item, where QHash<QByteArrayView, T *> takes about 35. A
// lookup compares hash bytes until one matches, and reads an item's ID only then. The hash is
// seeded per process (QHashSeed), so peers cannot choose IDs that pile up in one place.
template <typename T> class IdIndex
{
public:
    qsizetype size() const { return qsizetype(m_size); }
    size_t capacity() const { return m_items.size(); } // slots

    T *find(QByteArrayView id) const
    {
        if (m_size == 0)
            return nullptr;
        const size_t hash = hashOf(id);
        for (size_t slot = hash & mask();; slot = (slot + 1) & mask()) {
            if (m_marks[slot] == empty)
                return nullptr;
            if (m_marks[slot] == markOf(hash) && m_items[slot]->id() == id)
                return m_items[slot];
        }
    }

    // `item`'s ID must not be in the index yet.
    void insert(T *item)
    {
        if ((m_used + 1) * 8 > m_items.size() * 7)
            rehash();
        const size_t hash = hashOf(item->id());
        size_t slot = hash & mask();
        while (m_marks[slot] >= firstMark)
            slot = (slot + 1) & mask();
        if (m_marks[slot] == empty)
            ++m_used; // a removed item's slot is counted already
        m_marks[slot] = markOf(hash);
        m_items[slot] = item;
        ++m_size;
    }

    void remove(const T *item)
    {
        if (m_size == 0)
            return;
        const size_t hash = hashOf(item->id());
        for (size_t slot = hash & mask(); m_marks[slot] != empty; slot = (slot + 1) & mask()) {
            if (m_items[slot] != item)
                continue;
            // A lookup passes a removed item's slot; it may stop at one that ends the run.
            const bool endsRun = m_marks[(slot + 1) & mask()] == empty;
            m_marks[slot] = endsRun ? empty : removed;
            m_items[slot] = nullptr;
            if (endsRun)
                --m_used;
            --m_size;
            return;
        }
    }

    template <typename Function> void forEach(Function &&function) const
    {
        for (size_t slot = 0; slot < m_items.size(); ++slot) {
            if (m_marks[slot] >= firstMark)
                function(m_items[slot]);
        }
    }

private:
    enum : unsigned char
    {
        empty = 0,
        removed = 1,
        firstMark = 2 // a stored item's: 2-255, from its hash
    };

    size_t hashOf(QByteArrayView id) const { return qHash(id, m_seed); }
    // From the hash's top bits, which pick no slot.
    static unsigned char markOf(size_t hash)
    {
        return static_cast<unsigned char>(firstMark + (hash >> (sizeof(size_t) * 8 - 8)) % 254);
    }
    size_t mask() const { return m_items.size() - 1; }

    // Doubles the table when items fill 3/4 of it, else clears the removed items' slots.
    void rehash()
    {
        size_t capacity = m_items.empty() ? 16 : m_items.size();
        if ((m_size + 1) * 4 > capacity * 3)
            capacity *= 2;
        std::vector<T *> items(capacity, nullptr);
        std::vector<unsigned char> marks(capacity, empty);
        items.swap(m_items);
        marks.swap(m_marks);
        m_size = 0;
        m_used = 0;
        for (size_t slot = 0; slot < items.size(); ++slot) {
            if (marks[slot] >= firstMark)
                insert(items[slot]);
        }
    }

    std::vector<T *> m_items;
    std::vector<unsigned char> m_marks; // empty, removed, or a stored item's mark
    size_t m_size = 0;
    size_t m_used = 0; // slots not empty: items and removed ones
    size_t m_seed = QHashSeed::globalSeed();
};
