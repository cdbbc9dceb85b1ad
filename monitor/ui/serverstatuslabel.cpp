#include "serverstatuslabel.h"

#include "peertablemodel.h"
#include "serverconnection.h"

#include <QDateTime>

ServerStatusLabel::ServerStatusLabel(ServerConnection *connection, const PeerTableModel *peers,
                                     QWidget *parent)
    : QLabel(parent), m_connection(connection), m_peers(peers)
{
    setObjectName(QStringLiteral("serverStatus:") + connection->server());
    setTextFormat(Qt::RichText);
    connect(connection, &ServerConnection::stateChanged, this, &ServerStatusLabel::refresh);
    refresh();
}

void ServerStatusLabel::refresh()
{
    const ServerConnection::State state = m_connection->state();
    const char *colour = "#b58900";
    if (state == ServerConnection::State::Connected)
        colour = "#2e9e44";
    else if (state == ServerConnection::State::Reconnecting && !m_connection->lastError().isEmpty())
        colour = "#d33b2f";
    QString text = QStringLiteral("<span style='color:%1'>&#9679;</span> <b>%2</b> %3")
                       .arg(QLatin1String(colour), m_connection->server().toHtmlEscaped(),
                            ServerConnection::stateName(state));
    if (state == ServerConnection::State::Connected && m_connection->resumed())
        text += tr(" · resumed");
    text += QStringLiteral(" · ") +
            PeerTableModel::peerCountText(m_peers->peerCount(m_connection->server()));
    if (m_connection->lastEventMs() > 0)
        text += tr(" · last event %1")
                    .arg(PeerTableModel::ageText(QDateTime::currentMSecsSinceEpoch() -
                                                 m_connection->lastEventMs()));
    setText(text);
    setToolTip(m_connection->lastError().isEmpty()
                   ? m_connection->server()
                   : tr("error: %1").arg(m_connection->lastError()));
}
