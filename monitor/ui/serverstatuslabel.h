#pragma once

#include <QLabel>

class PeerTableModel;
class ServerConnection;

// One server's part of the status bar: connection state, peer count, age of the last event.
class ServerStatusLabel : public QLabel
{
    Q_OBJECT

public:
    ServerStatusLabel(ServerConnection *connection, const PeerTableModel *peers,
                      QWidget *parent = nullptr);

    ServerConnection *connection() const { return m_connection; }
    void refresh();

private:
    ServerConnection *m_connection;
    const PeerTableModel *m_peers;
};
