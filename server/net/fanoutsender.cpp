#include "fanoutsender.h"

#ifdef GOOP_HAVE_IO_URING
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <liburing.h>
#include <sys/socket.h>
#endif

namespace {

// One send() per socket.
class PortableSender final : public FanOutSender
{
public:
    explicit PortableSender(QString description) : m_description(std::move(description)) {}

    void sendToEach(const std::vector<SocketIo::Handle> &sockets, const char *data, qint64 size,
                    std::vector<qint64> &taken) override
    {
        taken.resize(sockets.size());
        for (size_t i = 0; i < sockets.size(); ++i)
            taken[i] = SocketIo::sendNow(sockets[i], data, size);
    }

    QString description() const override { return m_description; }

private:
    const QString m_description;
};

#ifdef GOOP_HAVE_IO_URING

QString errorText(int negativeErrno)
{
    return QString::fromLocal8Bit(std::strerror(-negativeErrno));
}

// Sends in batches through one io_uring: each batch is queued, handed to the kernel with one
// io_uring_enter(), which performs the sends right there, and its completions are read back
// from shared memory without another system call.
class IoUringSender final : public FanOutSender
{
public:
    // A sender, or null and why not.
    static std::unique_ptr<FanOutSender> create(unsigned maxBatch, QString *whyNot)
    {
        std::unique_ptr<IoUringSender> sender(new IoUringSender(maxBatch));
        const int result = io_uring_queue_init(maxBatch, &sender->m_ring, 0);
        if (result < 0) {
            *whyNot = errorText(result);
            return nullptr;
        }
        sender->m_open = true;
        if (!sender->failsFullSocketsAtOnce(whyNot))
            return nullptr;
        return sender;
    }

    ~IoUringSender() override
    {
        if (m_open)
            io_uring_queue_exit(&m_ring);
    }

    void sendToEach(const std::vector<SocketIo::Handle> &sockets, const char *data, qint64 size,
                    std::vector<qint64> &taken) override
    {
        taken.resize(sockets.size());
        for (size_t first = 0; first < sockets.size(); first += m_maxBatch) {
            const size_t end = std::min(sockets.size(), first + m_maxBatch);
            for (size_t i = first; i < end; ++i)
                queueSend(sockets[i], data, size, i);
            submit();
            for (size_t done = first; done < end; ++done) {
                const Completion completion = next();
                taken[completion.index] = completion.result;
            }
        }
    }

    QString description() const override { return QStringLiteral("io_uring"); }

private:
    struct Completion
    {
        size_t index;
        qint64 result; // as SocketIo::sendNow
    };

    explicit IoUringSender(unsigned maxBatch) : m_maxBatch(maxBatch) {}

    void queueSend(SocketIo::Handle socket, const char *data, qint64 size, size_t index)
    {
        // Never null: the ring holds a whole batch and is empty between batches.
        io_uring_sqe *sqe = io_uring_get_sqe(&m_ring);
        // MSG_DONTWAIT makes a full socket complete at once with EAGAIN, where io_uring would
        // otherwise keep the send and finish it when room appears, after this call returned.
        io_uring_prep_send(sqe, int(socket), data, size_t(size), MSG_DONTWAIT | MSG_NOSIGNAL);
        io_uring_sqe_set_data64(sqe, index);
    }

    void submit()
    {
        while (io_uring_sq_ready(&m_ring) > 0) {
            const int result = io_uring_submit(&m_ring);
            // EINTR: a signal came first; EAGAIN and EBUSY: the kernel is short of memory for
            // requests or completions for a moment. Anything else is a bug in this class.
            if (result < 0 && result != -EINTR && result != -EAGAIN && result != -EBUSY)
                qFatal("io_uring_submit failed: %s", qPrintable(errorText(result)));
        }
    }

    Completion next()
    {
        io_uring_cqe *cqe = nullptr;
        int result;
        while ((result = io_uring_wait_cqe(&m_ring, &cqe)) == -EINTR) {
        }
        if (result < 0)
            qFatal("io_uring_wait_cqe failed: %s", qPrintable(errorText(result)));
        const Completion completion{size_t(io_uring_cqe_get_data64(cqe)), sendResult(cqe->res)};
        io_uring_cqe_seen(&m_ring, cqe);
        return completion;
    }

    static qint64 sendResult(int res)
    {
        if (res >= 0)
            return res;
        return res == -EAGAIN || res == -EWOULDBLOCK || res == -EINTR ? 0 : -1;
    }

    // A send to a full socket must complete within the submission, as on Linux since 5.x, or a
    // stream that stops reading would hold the whole writer. Tried once on a socket pair whose
    // buffer is filled first; this also finds kernels without IORING_OP_SEND (before 5.6).
    bool failsFullSocketsAtOnce(QString *whyNot)
    {
        SocketIo::Handle pair[2];
        if (!SocketIo::connectedPair(pair)) {
            *whyNot = QStringLiteral("no socket pair to try it on: ") + SocketIo::lastError();
            return false;
        }
        const int small = 4096;
        ::setsockopt(int(pair[0]), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        const char filler[4096] = {};
        while (SocketIo::sendNow(pair[0], filler, sizeof filler) > 0) {
        }
        queueSend(pair[0], filler, sizeof filler, 0);
        submit();
        io_uring_cqe *cqe = nullptr;
        const bool completed = io_uring_peek_cqe(&m_ring, &cqe) == 0;
        const int res = completed ? cqe->res : 0;
        if (completed)
            io_uring_cqe_seen(&m_ring, cqe);
        // Closing the pair ends a send the kernel kept; the ring is not used again then.
        SocketIo::close(pair[0]);
        SocketIo::close(pair[1]);
        const bool failedAtOnce = completed && (res == -EAGAIN || res == -EWOULDBLOCK);
        if (!completed)
            *whyNot = QStringLiteral("this kernel keeps a send to a full socket waiting");
        else if (!failedAtOnce)
            *whyNot = QStringLiteral("a send to a full socket gave \"%1\"").arg(errorText(res));
        return failedAtOnce;
    }

    const unsigned m_maxBatch;
    io_uring m_ring{};
    bool m_open = false;
};

#endif // GOOP_HAVE_IO_URING

} // namespace

std::unique_ptr<FanOutSender> FanOutSender::create(SocketIo::Calls calls, unsigned maxBatch)
{
    SocketIo::initialize();
    if (calls == SocketIo::Calls::Portable)
        return std::make_unique<PortableSender>(QStringLiteral("send()"));
#ifdef GOOP_HAVE_IO_URING
    QString whyNot;
    if (auto sender = IoUringSender::create(maxBatch, &whyNot))
        return sender;
    return std::make_unique<PortableSender>(
        QStringLiteral("send(), io_uring refused: %1").arg(whyNot));
#else
    Q_UNUSED(maxBatch)
    return std::make_unique<PortableSender>(QStringLiteral("send()"));
#endif
}
