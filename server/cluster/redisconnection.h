#pragma once

#include <QByteArrayList>
#include <QObject>

#include <functional>

struct redisAsyncContext;
struct redisReply;
class QSocketNotifier;

// One asynchronous hiredis connection driven by the Qt event loop of the thread it lives in.
//
// hiredis ships a Qt adapter (hiredis/adapters/qt.h), but it cannot be used as it is here: it
// declares `slots` (this project builds with QT_NO_KEYWORDS), needs moc to run on a system
// header, and deletes its socket notifiers from inside their own activation. This class does the
// same job (hiredis' event hooks mapped to two QSocketNotifiers) without those problems.
//
// Once connected() or disconnected() has been emitted for a failure, the connection is dead for
// good; the owner makes a new one.
class RedisConnection : public QObject
{
    Q_OBJECT

public:
    // Called with the reply, or with nullptr when the connection ended before one came.
    using ReplyHandler = std::function<void(redisReply *reply)>;

    explicit RedisConnection(QObject *parent = nullptr);
    ~RedisConnection() override; // drops pending commands without calling their handlers

    // Starts connecting; commands may be queued at once (hiredis sends them once connected).
    // False (and errorText()) if it failed before any I/O.
    bool open(const QString &host, quint16 port);

    // Queues one command; false if the connection is already gone.
    bool command(const QByteArrayList &arguments, ReplyHandler handler = {});

    bool isOpen() const { return m_context != nullptr; }
    QString errorText() const { return m_error; }

Q_SIGNALS:
    void connected();
    // The connection failed or ended; `reason` says why.
    void disconnected(const QString &reason);

private:
    struct Pending;
    static void onConnect(const redisAsyncContext *context, int status);
    static void onDisconnect(const redisAsyncContext *context, int status);
    static void onReply(redisAsyncContext *context, void *reply, void *privateData);
    static void addRead(void *self);
    static void delRead(void *self);
    static void addWrite(void *self);
    static void delWrite(void *self);
    static void cleanup(void *self);

    redisAsyncContext *m_context = nullptr; // null once hiredis has freed it
    QSocketNotifier *m_read = nullptr;
    QSocketNotifier *m_write = nullptr;
    QString m_error;
    bool m_closing = false;
};
