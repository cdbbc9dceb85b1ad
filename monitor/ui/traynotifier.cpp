#include "traynotifier.h"

#include <QApplication>
#include <QSystemTrayIcon>

TrayNotifier::TrayNotifier(QObject *parent) : QObject(parent)
{
    m_batch.setSingleShot(true);
    m_batch.setInterval(5000);
    connect(&m_batch, &QTimer::timeout, this, &TrayNotifier::flush);
}

void TrayNotifier::setEnabled(bool enabled)
{
    m_enabled = enabled && QSystemTrayIcon::isSystemTrayAvailable();
    if (m_enabled && !m_icon) {
        m_icon = new QSystemTrayIcon(QApplication::windowIcon(), this);
        m_icon->setToolTip(QStringLiteral("goop-monitor"));
        connect(m_icon, &QSystemTrayIcon::activated, this, &TrayNotifier::activated);
    }
    if (m_icon)
        m_icon->setVisible(m_enabled);
    if (!m_enabled) {
        m_joined.clear();
        m_left.clear();
    }
}

static QString nameOf(const QString &peerId, const QString &label)
{
    return label.isEmpty() ? peerId.left(16) + QStringLiteral("…") : label;
}

void TrayNotifier::peerJoined(const QString &peerId, const QString &label)
{
    if (!m_enabled)
        return;
    m_joined.append(nameOf(peerId, label));
    if (!m_batch.isActive())
        m_batch.start();
}

void TrayNotifier::peerLeft(const QString &peerId, const QString &label)
{
    if (!m_enabled)
        return;
    m_left.append(nameOf(peerId, label));
    if (!m_batch.isActive())
        m_batch.start();
}

void TrayNotifier::flush()
{
    if (!m_icon || (m_joined.isEmpty() && m_left.isEmpty()))
        return;
    const auto summary = [](const QStringList &names) {
        return names.size() <= 3 ? names.join(QStringLiteral(", "))
                                 : tr("%1 and %2 more")
                                       .arg(names.mid(0, 3).join(QStringLiteral(", ")))
                                       .arg(names.size() - 3);
    };
    QStringList lines;
    if (!m_joined.isEmpty())
        lines.append(tr("Joined: %1").arg(summary(m_joined)));
    if (!m_left.isEmpty())
        lines.append(tr("Left: %1").arg(summary(m_left)));
    m_icon->showMessage(tr("Goop² peers"), lines.join(QLatin1Char('\n')));
    m_joined.clear();
    m_left.clear();
}
