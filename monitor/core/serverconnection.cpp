#include "serverconnection.h"

#include "presencemessage.h"

#include <QAuthenticator>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

Q_LOGGING_CATEGORY(lcConnection, "goop.monitor.connection")

ServerConnection::ServerConnection(const QUrl &baseUrl, QObject *parent)
    : QObject(parent), m_server(baseUrl.adjusted(QUrl::StripTrailingSlash).toString()),
      m_network(new QNetworkAccessManager(this))
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &ServerConnection::connectNow);
    connect(m_network, &QNetworkAccessManager::authenticationRequired, this,
            &ServerConnection::signIn);
    m_watchdog.setSingleShot(true);
    connect(&m_watchdog, &QTimer::timeout, this,
            [this] { fail(tr("no data for %1 s").arg(m_silenceTimeoutMs / 1000.0)); });
}

ServerConnection::~ServerConnection()
{
    dropReplies();
}

QUrl ServerConnection::dashboardUrl() const
{
    return QUrl(m_server + QLatin1Char('/'));
}

void ServerConnection::start()
{
    if (m_running)
        return;
    m_running = true;
    m_backoffMs = m_firstBackoffMs;
    setState(State::Connecting);
    connectNow();
}

void ServerConnection::stop()
{
    m_running = false;
    m_retryTimer.stop();
    m_watchdog.stop();
    dropReplies();
    setState(State::Idle);
}

void ServerConnection::setSilenceTimeout(int ms)
{
    m_silenceTimeoutMs = ms;
    if (m_watchdog.isActive())
        m_watchdog.start(ms);
}

void ServerConnection::setBackoff(int firstMs, int maxMs)
{
    m_firstBackoffMs = firstMs;
    m_maxBackoffMs = maxMs;
    m_backoffMs = firstMs;
}

QString ServerConnection::stateName(State state)
{
    switch (state) {
    case State::Idle:
        return tr("stopped");
    case State::Connecting:
        return tr("connecting");
    case State::Connected:
        return tr("connected");
    case State::Reconnecting:
        return tr("reconnecting");
    }
    return {};
}

QNetworkReply *ServerConnection::get(const QString &path, const QByteArray &accept,
                                     const QByteArray &lastEventId)
{
    QNetworkRequest request(QUrl(m_server + path));
    request.setRawHeader("Accept", accept);
    if (!lastEventId.isEmpty())
        request.setRawHeader("Last-Event-ID", lastEventId);
    request.setRawHeader("Cache-Control", "no-cache");
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute,
                         QNetworkRequest::AlwaysNetwork);
    // Over plain http Qt would not use HTTP/2 anyway; saying so keeps the stream on HTTP/1.1
    // behind a TLS proxy too, where the server's framing is what we parse.
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    return m_network->get(request);
}

void ServerConnection::connectNow()
{
    if (!m_running)
        return;
    dropReplies();
    m_parser.reset();
    m_heldBack.clear();
    m_streamSnapshot.reset();
    m_startedHow.clear();
    m_resumed = false;
    m_streamLive = false;
    m_snapshotApplied = false;
    qCDebug(lcConnection, "%s: opening the event stream (after %s)", qPrintable(m_server),
            m_lastEventId.isEmpty() ? "nothing" : m_lastEventId.constData());
    // punch=0: the monitor has no use for hole-punching hints, N² of them when a crowd arrives.
    m_stream =
        get(QStringLiteral("/events?snapshot=1&punch=0"), "text/event-stream", m_lastEventId);
    connect(m_stream, &QNetworkReply::readyRead, this, &ServerConnection::onStreamData);
    connect(m_stream, &QNetworkReply::finished, this, &ServerConnection::onStreamFinished);
    // The watchdog also bounds the connect itself: a host that accepts and never answers.
    m_watchdog.start(m_silenceTimeoutMs);
}

void ServerConnection::onStreamData()
{
    m_watchdog.start(m_silenceTimeoutMs);
    if (!m_streamLive) {
        const int status = m_stream->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray type = m_stream->header(QNetworkRequest::ContentTypeHeader).toByteArray();
        if (status != 200 || !type.startsWith("text/event-stream")) {
            fail(tr("/events answered HTTP %1 (%2)").arg(status).arg(QString::fromLatin1(type)));
            return;
        }
        m_streamLive = true;
        m_resumable = m_stream->hasRawHeader("X-Goop-Resume");
        Q_EMIT streamOpened();
        if (!m_stream)
            return;
        if (!m_resumable) {
            // The server subscribes us before writing the first bytes (`: ok`), so a snapshot
            // requested from here on cannot miss an event: each one is either in it or after
            // it in the stream (or both, which applying in order makes harmless).
            m_snapshot = get(QStringLiteral("/peers.json"), "application/json");
            connect(m_snapshot, &QNetworkReply::finished, this,
                    &ServerConnection::onSnapshotFinished);
        }
    }
    const auto events = m_parser.feed(m_stream->readAll());
    for (const auto &event : events)
        handleEvent(event);
}

void ServerConnection::handleEvent(const SseParser::Event &event)
{
    // Peers in the field read each data: line as one message whatever the event type; an
    // `event:` name other than the default is not a presence message.
    if (event.type != "message") {
        if (m_resumable)
            handleMarker(event);
        return;
    }
    // The server's own JSON: its `verified` is kept, not dropped as a peer's would be.
    const auto parsed = PresenceMessage::parse(event.data, PresenceMessage::Source::Server);
    const auto *message = std::get_if<PresenceMessage>(&parsed);
    if (!message) {
        ++m_malformedEvents;
        qCWarning(lcConnection, "%s: ignoring a malformed event: %s", qPrintable(m_server),
                  std::get<PresenceMessage::Error>(parsed).text.constData());
        return;
    }
    m_lastEventMs = QDateTime::currentMSecsSinceEpoch();
    PeerRecord record = PeerRecord::fromMessage(*message, m_server, m_lastEventMs);
    if (m_streamSnapshot) {
        m_streamSnapshot->append(std::move(record));
    } else if (m_snapshotApplied) {
        if (!event.id.isEmpty())
            m_lastEventId = event.id;
        Q_EMIT peerEvent(record);
    } else {
        m_heldBack.append(std::move(record));
    }
}

void ServerConnection::handleMarker(const SseParser::Event &event)
{
    const QJsonObject info = QJsonDocument::fromJson(event.data).object();
    if (event.type == "reset") {
        qCInfo(lcConnection, "%s: cannot resume after %s (%s): a snapshot follows",
               qPrintable(m_server), m_lastEventId.constData(),
               qPrintable(info.value(QLatin1String("reason")).toString()));
        m_lastEventId.clear();
    } else if (event.type == "snapshot") {
        m_streamSnapshot.emplace();
    } else if (event.type == "live" && m_streamSnapshot) {
        const QList<PeerRecord> peers = *std::exchange(m_streamSnapshot, std::nullopt);
        m_lastEventId = event.id;
        qCInfo(lcConnection, "%s: snapshot of %lld peers at event %s", qPrintable(m_server),
               static_cast<long long>(peers.size()), m_lastEventId.constData());
        Q_EMIT snapshotLoaded(peers);
        goLive(tr("from a snapshot"));
    } else if (event.type == "resumed") {
        const int replayed = info.value(QLatin1String("replayed")).toInt();
        qCInfo(lcConnection, "%s: resumed after event %s, %d missed events replayed",
               qPrintable(m_server), m_lastEventId.constData(), replayed);
        goLive(tr("resumed, %1 missed events replayed").arg(replayed), true);
    }
}

void ServerConnection::goLive(const QString &how, bool resumed)
{
    m_snapshotApplied = true;
    m_startedHow = how;
    m_resumed = resumed;
    m_backoffMs = m_firstBackoffMs;
    m_lastError.clear();
    m_signedIn = false;
    setState(State::Connected);
}

void ServerConnection::onStreamFinished()
{
    const QString reason = m_stream && m_stream->error() != QNetworkReply::NoError
                               ? m_stream->errorString()
                               : tr("the server closed the event stream");
    fail(reason);
}

void ServerConnection::onSnapshotFinished()
{
    QNetworkReply *reply = m_snapshot;
    m_snapshot = nullptr;
    reply->deleteLater();
    if (reply->error() != QNetworkReply::NoError) {
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        fail(status == 401 ? tr("/peers.json is for operators: no password, or a wrong one (401)")
                           : tr("/peers.json: %1").arg(reply->errorString()));
        return;
    }
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(reply->readAll(), &error);
    if (!document.isArray()) {
        fail(tr("/peers.json is not a JSON array (%1)").arg(error.errorString()));
        return;
    }
    QList<PeerRecord> peers;
    const QJsonArray rows = document.array();
    peers.reserve(rows.size());
    for (const auto &row : rows) {
        if (auto record = PeerRecord::fromSnapshotRow(row.toObject(), m_server))
            peers.append(std::move(*record));
    }
    qCInfo(lcConnection, "%s: snapshot of %lld peers, %lld events held back", qPrintable(m_server),
           static_cast<long long>(peers.size()), static_cast<long long>(m_heldBack.size()));
    Q_EMIT snapshotLoaded(peers);
    m_snapshotApplied = true;
    const QList<PeerRecord> heldBack = std::exchange(m_heldBack, {});
    for (const auto &record : heldBack)
        Q_EMIT peerEvent(record);
    goLive(tr("from /peers.json"));
}

void ServerConnection::signIn(QNetworkReply *, QAuthenticator *authenticator)
{
    // Asked again within one attempt: the credentials just given were refused.
    const bool failedBefore = std::exchange(m_signedIn, true);
    const std::optional<Credentials> credentials =
        m_credentials ? m_credentials(m_server, failedBefore) : std::nullopt;
    if (!credentials)
        return; // the reply ends with 401, which fail() reports
    authenticator->setUser(credentials->user);
    authenticator->setPassword(credentials->password);
}

void ServerConnection::fail(const QString &reason)
{
    if (!m_running)
        return;
    dropReplies();
    m_watchdog.stop();
    m_lastError = reason;
    qCInfo(lcConnection, "%s: %s; retrying in %d ms", qPrintable(m_server), qPrintable(reason),
           m_backoffMs);
    m_retryDelayMs = m_backoffMs;
    m_retryTimer.start(m_retryDelayMs);
    m_backoffMs = qMin(m_backoffMs * 2, m_maxBackoffMs);
    setState(State::Reconnecting);
}

void ServerConnection::dropReplies()
{
    // Disconnect first: abort() emits finished() at once, which would count as a new failure.
    for (QPointer<QNetworkReply> *reply : {&m_stream, &m_snapshot}) {
        if (!*reply)
            continue;
        (*reply)->disconnect(this);
        (*reply)->abort();
        (*reply)->deleteLater();
        *reply = nullptr;
    }
}

void ServerConnection::setState(State state)
{
    // Reconnecting is announced on every failure so that the error text shown stays current.
    if (m_state == state && state != State::Reconnecting)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}
