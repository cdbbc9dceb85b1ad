#include "eventhub.h"

#include "streamwriter.h"

EventHub::EventHub(const Options &options, ConnectionBudget &budget)
{
    for (int i = 0; i < qMax(1, options.writerThreads); ++i)
        m_writers.push_back(std::make_unique<StreamWriter>(options.maxBacklogBytes,
                                                           options.heartbeat, budget, m_dropped,
                                                           m_delivered, options.calls));
}

EventHub::~EventHub() = default;

void EventHub::subscribe(SocketIo::Handle socket, const QByteArray &greeting)
{
    m_writers[m_next.fetch_add(1) % m_writers.size()]->add(socket, greeting);
}

void EventHub::broadcast(const QByteArray &frame)
{
    for (const auto &writer : m_writers) {
        if (writer->count() > 0) // no wake-up for a writer with nobody to write to
            writer->post(frame);
    }
}

void EventHub::closeAll()
{
    for (const auto &writer : m_writers)
        writer->closeAll();
}

int EventHub::subscriberCount() const
{
    int count = 0;
    for (const auto &writer : m_writers)
        count += writer->count();
    return count;
}

QString EventHub::sendMethod() const
{
    return m_writers.front()->sendMethod();
}
