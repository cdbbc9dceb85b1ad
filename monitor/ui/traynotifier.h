#pragma once

#include <QObject>
#include <QStringList>
#include <QTimer>

class QSystemTrayIcon;

// A tray icon with join/leave notifications, off by default. Notifications are gathered for a
// few seconds and shown as one, so a busy network does not bury the desktop in bubbles.
class TrayNotifier : public QObject
{
    Q_OBJECT

public:
    explicit TrayNotifier(QObject *parent = nullptr);

    void setEnabled(bool enabled);
    bool isEnabled() const { return m_enabled; }

    void peerJoined(const QString &peerId, const QString &label);
    void peerLeft(const QString &peerId, const QString &label);

Q_SIGNALS:
    void activated();

private:
    void flush();

    QSystemTrayIcon *m_icon = nullptr;
    bool m_enabled = false;
    QStringList m_joined;
    QStringList m_left;
    QTimer m_batch;
};
