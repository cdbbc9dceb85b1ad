#include "websocketclient.h"

#include <QDeadlineTimer>
#include <QTest>
#include <QUrl>

WebSocketClient::WebSocketClient(quint16 port) : m_port(port)
{
    QObject::connect(&m_socket, &QWebSocket::textMessageReceived,
                     [this](const QString &text) { m_messages.append(text.toUtf8()); });
}

bool WebSocketClient::open(const QByteArray &peerId, int timeoutMs)
{
    m_socket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws?peer_id=%2")
                           .arg(m_port)
                           .arg(QString::fromUtf8(peerId))));
    return QTest::qWaitFor([this] { return m_socket.state() == QAbstractSocket::ConnectedState; },
                           timeoutMs);
}

void WebSocketClient::send(const QByteArray &text)
{
    m_socket.sendTextMessage(QString::fromUtf8(text));
    m_socket.flush();
}

int WebSocketClient::waitForMessages(int count, int timeoutMs)
{
    QTest::qWaitFor([&] { return m_messages.size() >= count; }, timeoutMs);
    return int(m_messages.size());
}

bool WebSocketClient::waitForClose(int timeoutMs)
{
    return QTest::qWaitFor([this] { return m_socket.state() == QAbstractSocket::UnconnectedState; },
                           timeoutMs);
}

void WebSocketClient::runFor(int ms)
{
    QTest::qWait(ms);
}
