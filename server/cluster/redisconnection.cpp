#include "redisconnection.h"

#include <QSocketNotifier>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <vector>

struct RedisConnection::Pending
{
    RedisConnection *connection;
    ReplyHandler handler;
};

RedisConnection::RedisConnection(QObject *parent) : QObject(parent) {}

RedisConnection::~RedisConnection()
{
    m_closing = true;
    if (m_context) {
        // Frees the context and hands every pending command's privdata back (with no reply).
        redisAsyncContext *context = m_context;
        redisAsyncFree(context);
        m_context = nullptr;
    }
    delete m_read;
    delete m_write;
}

bool RedisConnection::open(const QString &host, quint16 port)
{
    redisAsyncContext *context = redisAsyncConnect(host.toUtf8().constData(), port);
    if (!context) {
        m_error = QStringLiteral("out of memory");
        return false;
    }
    if (context->err) {
        m_error = QString::fromUtf8(context->errstr);
        redisAsyncFree(context);
        return false;
    }
    m_context = context;
    context->data = this;
    m_read = new QSocketNotifier(context->c.fd, QSocketNotifier::Read, this);
    m_write = new QSocketNotifier(context->c.fd, QSocketNotifier::Write, this);
    m_read->setEnabled(false);
    m_write->setEnabled(false);
    connect(m_read, &QSocketNotifier::activated, this, [this] {
        if (m_context)
            redisAsyncHandleRead(m_context);
    });
    connect(m_write, &QSocketNotifier::activated, this, [this] {
        if (m_context)
            redisAsyncHandleWrite(m_context);
    });
    context->ev.data = this;
    context->ev.addRead = &RedisConnection::addRead;
    context->ev.delRead = &RedisConnection::delRead;
    context->ev.addWrite = &RedisConnection::addWrite;
    context->ev.delWrite = &RedisConnection::delWrite;
    context->ev.cleanup = &RedisConnection::cleanup;
    redisAsyncSetConnectCallback(context, &RedisConnection::onConnect);
    redisAsyncSetDisconnectCallback(context, &RedisConnection::onDisconnect);
    // A non-blocking connect reports completion as writability.
    m_write->setEnabled(true);
    return true;
}

bool RedisConnection::command(const QByteArrayList &arguments, ReplyHandler handler)
{
    if (!m_context)
        return false;
    std::vector<const char *> argv;
    std::vector<size_t> lengths;
    argv.reserve(size_t(arguments.size()));
    lengths.reserve(size_t(arguments.size()));
    for (const QByteArray &argument : arguments) {
        argv.push_back(argument.constData());
        lengths.push_back(size_t(argument.size()));
    }
    auto *pending = new Pending{this, std::move(handler)};
    if (redisAsyncCommandArgv(m_context, &RedisConnection::onReply, pending,
                              static_cast<int>(argv.size()), argv.data(),
                              lengths.data()) != REDIS_OK) {
        delete pending;
        return false;
    }
    return true;
}

void RedisConnection::onConnect(const redisAsyncContext *context, int status)
{
    auto *self = static_cast<RedisConnection *>(context->data);
    if (!self || self->m_closing)
        return;
    if (status == REDIS_OK) {
        Q_EMIT self->connected();
        return;
    }
    // hiredis frees the context when this returns.
    self->m_error = QString::fromUtf8(context->errstr);
    self->m_context = nullptr;
    Q_EMIT self->disconnected(self->m_error);
}

void RedisConnection::onDisconnect(const redisAsyncContext *context, int status)
{
    auto *self = static_cast<RedisConnection *>(context->data);
    if (!self || self->m_closing)
        return;
    self->m_error = status == REDIS_OK ? QStringLiteral("connection closed")
                                       : QString::fromUtf8(context->errstr);
    self->m_context = nullptr;
    Q_EMIT self->disconnected(self->m_error);
}

void RedisConnection::onReply(redisAsyncContext *, void *reply, void *privateData)
{
    auto *pending = static_cast<Pending *>(privateData);
    if (pending->handler && !pending->connection->m_closing)
        pending->handler(static_cast<redisReply *>(reply));
    delete pending;
}

void RedisConnection::addRead(void *self)
{
    static_cast<RedisConnection *>(self)->m_read->setEnabled(true);
}

void RedisConnection::delRead(void *self)
{
    static_cast<RedisConnection *>(self)->m_read->setEnabled(false);
}

void RedisConnection::addWrite(void *self)
{
    static_cast<RedisConnection *>(self)->m_write->setEnabled(true);
}

void RedisConnection::delWrite(void *self)
{
    static_cast<RedisConnection *>(self)->m_write->setEnabled(false);
}

void RedisConnection::cleanup(void *self)
{
    auto *connection = static_cast<RedisConnection *>(self);
    connection->m_read->setEnabled(false);
    connection->m_write->setEnabled(false);
}
