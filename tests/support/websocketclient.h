#pragma once

#include <QByteArrayList>
#include <QWebSocket>

// Qt's own RFC 6455 client on /ws?peer_id=…, recording every text message it receives.
class WebSocketClient
{
public:
    explicit WebSocketClient(quint16 port);

    // Opens /ws?peer_id=`peerId` and waits for the 101; false otherwise.
    bool open(const QByteArray &peerId, int timeoutMs = 5000);
    // Sends at once, also while the test waits without an event loop.
    void send(const QByteArray &text);

    // Runs the event loop until `count` messages arrived in all (or the time is up).
    int waitForMessages(int count, int timeoutMs = 5000);
    bool waitForClose(int timeoutMs);
    void runFor(int ms);

    const QByteArrayList &messages() const { return m_messages; }
    bool isOpen() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    QWebSocket &socket() { return m_socket; }

private:
    quint16 m_port;
    QWebSocket m_socket;
    QByteArrayList m_messages;
};
