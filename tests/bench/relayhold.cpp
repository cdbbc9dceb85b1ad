// goop-relayhold: holds reservations and idle circuits on a circuit relay v2 and measures what
// they cost the relay's process in memory (issue 19). Each client is a libp2p connection of
// its own (our connection code, Noise and Yamux), from its own loopback address (127.2.x.y), so
// that per-address limits stay out of the way as they would for peers on the Internet.
//
//   goop-relayhold --relay /ip4/127.0.0.1/tcp/PORT/p2p/PEERID --reservations N
//                  [--circuits M] [--server-pid PID] [--hold-seconds S]
//
// Phases: N connections; a reservation on each; M circuits, each from one more connection to
// one of the reserved peers, held open and idle. With --server-pid the relay's RSS is read
// after each phase. Prints one JSON line, then holds everything for S seconds (0: until
// SIGTERM or SIGINT), so that other benchmarks can run against the relay meanwhile.
#include "libp2p/identitykey.h"
#include "libp2p/libp2pconnection.h"
#include "libp2p/relay/relaymessages.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSocketNotifier>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <memory>
#include <sys/socket.h>
#include <unistd.h>

using namespace RelayMessages;

namespace {

[[noreturn]] void die(const QString &why)
{
    std::fprintf(stderr, "goop-relayhold: %s\n", qPrintable(why));
    std::exit(1);
}

qint64 residentKiB(qint64 pid)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

// One STATUS answer on a hop stream; `request` is sent when the stream opens.
struct Answer
{
    std::optional<Status> status;
};

class HopRequest : public StreamHandler
{
public:
    HopRequest(std::shared_ptr<Answer> answer, HopMessage request)
        : m_answer(std::move(answer)), m_request(std::move(request))
    {}
    void opened(Libp2pStream &stream) override { stream.write(frame(m_request.encode())); }
    void received(Libp2pStream &, const QByteArray &bytes) override
    {
        if (m_answer->status || m_reader.feed(bytes) != FrameReader::State::Ready)
            return;
        const auto message = HopMessage::decode(m_reader.message());
        m_answer->status = message && message->status ? *message->status : Status::MalformedMessage;
    }
    void remoteClosed(Libp2pStream &) override {} // a circuit's stream stays open

private:
    std::shared_ptr<Answer> m_answer;
    HopMessage m_request;
    FrameReader m_reader;
};

// A reserved peer's side of a circuit: accepts the relay's CONNECT and keeps the stream.
class StopAcceptor : public StreamHandler
{
public:
    void received(Libp2pStream &stream, const QByteArray &bytes) override
    {
        if (m_accepted || m_reader.feed(bytes) != FrameReader::State::Ready)
            return;
        StopMessage ok;
        ok.type = StopMessage::StatusType;
        ok.status = Status::Ok;
        stream.write(frame(ok.encode()));
        m_accepted = true;
    }
    void remoteClosed(Libp2pStream &) override {}

private:
    FrameReader m_reader;
    bool m_accepted = false;
};

// One libp2p client connection from 127.2.x.y.
struct Client
{
    QTcpSocket socket;
    ProtocolRegistry registry;
    IdentityKey key = IdentityKey::generate();
    std::unique_ptr<Libp2pConnection> connection;

    Client()
    {
        registry.add(stopProtocolId, [] { return std::make_unique<StopAcceptor>(); });
    }
    PeerId peerId() const { return PeerId::fromPublicKey(key.publicKeyProtobuf()); }
    void connect(int index, const Multiaddr &relay, const PeerId &relayPeer)
    {
        const auto endpoint = relay.tcpEndpoint();
        const quint32 source = (127u << 24) | (2u << 16) | quint32(index + 1);
        if (!socket.bind(QHostAddress(source), 0))
            die(QStringLiteral("cannot bind 127.2.x.y: ") + socket.errorString());
        // The connection speaks first: made once the socket is connected.
        QObject::connect(&socket, &QTcpSocket::connected, [this, relay, relayPeer] {
            connection = std::make_unique<Libp2pConnection>(
                Libp2pConnection::Direction::Outbound, key, registry, relay,
                [this](const QByteArray &bytes) { socket.write(bytes); },
                Libp2pConnection::Options(), relayPeer);
        });
        QObject::connect(&socket, &QTcpSocket::readyRead, [this] {
            if (connection)
                connection->feed(socket.readAll());
        });
        socket.connectToHost(endpoint->first, endpoint->second);
    }
    bool ready() const
    {
        return connection && connection->stage() == Libp2pConnection::Stage::Ready;
    }
};

// Runs the event loop until `done` holds for every item or the time is up; how many held.
template <typename Items, typename Done>
int waitForAll(const Items &items, Done done, int timeoutMs)
{
    const auto count = [&] {
        int held = 0;
        for (const auto &item : items)
            held += done(item) ? 1 : 0;
        return held;
    };
    (void)QTest::qWaitFor([&] { return count() == int(items.size()); }, timeoutMs);
    return count();
}

int signalPipe[2];

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QString relayText;
    int reservations = 0, circuits = 0, holdSeconds = 0;
    qint64 serverPid = 0;
    const QStringList args = app.arguments();
    for (int i = 1; i + 1 < args.size(); i += 2) {
        const QString &name = args[i], &value = args[i + 1];
        if (name == QLatin1String("--relay"))
            relayText = value;
        else if (name == QLatin1String("--reservations"))
            reservations = value.toInt();
        else if (name == QLatin1String("--circuits"))
            circuits = value.toInt();
        else if (name == QLatin1String("--server-pid"))
            serverPid = value.toLongLong();
        else if (name == QLatin1String("--hold-seconds"))
            holdSeconds = value.toInt();
        else
            die(QStringLiteral("unknown option ") + name);
    }
    const int split = relayText.indexOf(QLatin1String("/p2p/"));
    const auto relay = Multiaddr::fromText(relayText.left(split));
    const auto relayPeer = PeerId::fromText(relayText.mid(split + 5));
    if (split < 0 || !relay || !relay->tcpEndpoint() || !relayPeer)
        die(QStringLiteral("--relay /ip4/…/tcp/…/p2p/PEERID is required"));
    if (reservations < 1 || circuits < 0 || circuits > reservations || reservations > 60000)
        die(QStringLiteral("--reservations between 1 and 60000, --circuits at most as many"));

    QJsonObject rss, seconds;
    QElapsedTimer phaseTime;
    phaseTime.start();
    const auto measure = [&](const char *phase) {
        seconds.insert(QLatin1String(phase), phaseTime.restart() / 1000.0);
        QTest::qWait(500); // let the relay settle
        if (serverPid)
            rss.insert(QLatin1String(phase), residentKiB(serverPid));
        std::fprintf(stderr, "goop-relayhold: %s done\n", phase);
        phaseTime.restart();
    };
    measure("start");

    // Connections, a few hundred handshakes at a time.
    std::vector<std::unique_ptr<Client>> targets;
    for (int i = 0; i < reservations; ++i) {
        targets.push_back(std::make_unique<Client>());
        targets.back()->connect(i, *relay, *relayPeer);
        if (i % 200 == 199)
            waitForAll(
                targets, [](const auto &c) { return c->ready(); }, 30000);
    }
    const int connected = waitForAll(
        targets, [](const auto &c) { return c->ready(); }, 60000);
    if (connected < reservations)
        die(QStringLiteral("%1 of %2 connections ready").arg(connected).arg(reservations));
    measure("connections");

    std::vector<std::shared_ptr<Answer>> reserved;
    for (const auto &target : targets) {
        reserved.push_back(std::make_shared<Answer>());
        target->connection->openStream({hopProtocolId},
                                       std::make_unique<HopRequest>(reserved.back(), HopMessage{}));
    }
    const auto isOk = [](const auto &answer) { return answer->status == Status::Ok; };
    const int reservationsHeld = waitForAll(reserved, isOk, 60000);
    measure("reservations");

    std::vector<std::unique_ptr<Client>> sources;
    std::vector<std::shared_ptr<Answer>> opened;
    for (int i = 0; i < circuits; ++i) {
        sources.push_back(std::make_unique<Client>());
        sources.back()->connect(reservations + i, *relay, *relayPeer);
    }
    waitForAll(
        sources, [](const auto &c) { return c->ready(); }, 60000);
    for (int i = 0; i < circuits; ++i) {
        HopMessage connect;
        connect.type = HopMessage::Connect;
        connect.peer = Peer{targets[i]->peerId().bytes(), {}};
        opened.push_back(std::make_shared<Answer>());
        sources[i]->connection->openStream({hopProtocolId},
                                           std::make_unique<HopRequest>(opened.back(), connect));
    }
    const int circuitsOpen = waitForAll(opened, isOk, 60000);
    measure("circuits");

    QJsonObject result{{QLatin1String("reservations"), reservationsHeld},
                       {QLatin1String("circuits"), circuitsOpen},
                       {QLatin1String("rss_kib"), rss},
                       {QLatin1String("seconds"), seconds}};
    const auto perItem = [&](const char *from, const char *to, int items) {
        return items ? (rss.value(QLatin1String(to)).toDouble() -
                        rss.value(QLatin1String(from)).toDouble()) *
                           1024 / items
                     : 0.0;
    };
    if (serverPid) {
        result.insert(QLatin1String("bytes_per_connection"),
                      perItem("start", "connections", reservations));
        result.insert(QLatin1String("bytes_per_reservation"),
                      perItem("connections", "reservations", reservationsHeld));
        result.insert(QLatin1String("bytes_per_circuit"),
                      perItem("reservations", "circuits", circuitsOpen));
    }
    std::printf("%s\n", QJsonDocument(result).toJson(QJsonDocument::Compact).constData());
    std::fflush(stdout);

    // Hold until the time is up or a signal comes (through a pipe: nothing else is safe in a
    // signal handler).
    if (::pipe(signalPipe) != 0)
        die(QStringLiteral("pipe"));
    const auto onSignal = [](int) { (void)!::write(signalPipe[1], "x", 1); };
    std::signal(SIGTERM, onSignal);
    std::signal(SIGINT, onSignal);
    QSocketNotifier stopper(signalPipe[0], QSocketNotifier::Read);
    QObject::connect(&stopper, &QSocketNotifier::activated, &app, &QCoreApplication::quit);
    if (holdSeconds > 0)
        QTimer::singleShot(holdSeconds * 1000, &app, &QCoreApplication::quit);
    app.exec();
    return reservationsHeld == reservations && circuitsOpen == circuits ? 0 : 1;
}
