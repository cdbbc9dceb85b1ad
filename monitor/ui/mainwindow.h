#pragma once

#include <QHash>
#include <QMainWindow>
#include <QUrl>

class AddServerDialog;
class MonitorSession;
class PeerCountChart;
class PeerDetailsPane;
class QLineEdit;
class QSettings;
class QSortFilterProxyModel;
class QSplitter;
class QTableView;
class ServerConnection;
class ServerStatusLabel;
class TrayNotifier;

// The monitor's window: peers table (sortable, filterable), details pane, event log, peer count
// chart and one status bar entry per server. It only shows MonitorSession's models and forwards
// the user's commands; settings persist in the QSettings it is given.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    MainWindow(MonitorSession *session, QSettings *settings, QWidget *parent = nullptr);
    ~MainWindow() override;

    // Follows `servers`, or the saved ones if empty, or the default server if none are saved.
    void startFollowing(const QList<QUrl> &servers);

    QTableView *peerTable() const { return m_table; }
    QSortFilterProxyModel *peerProxy() const { return m_proxy; }
    PeerDetailsPane *detailsPane() const { return m_details; }
    ServerStatusLabel *statusLabel(const QString &server) const
    {
        return m_statusLabels.value(server);
    }
    void setFilterText(const QString &text);

    void saveSettings();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void restoreSettings();
    void addServerInteractively();
    void removeSelectedServer();
    void openDashboard();
    void showAbout();
    void onServerAdded(ServerConnection *connection);
    void onServerRemoved(const QString &server);
    void showSelectedPeer();
    QString currentServer() const;
    void refreshStatus();

    MonitorSession *m_session;
    QSettings *m_settings;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_table;
    QLineEdit *m_filter;
    PeerDetailsPane *m_details;
    QTableView *m_log;
    PeerCountChart *m_chart;
    QSplitter *m_topSplitter;
    QSplitter *m_mainSplitter;
    TrayNotifier *m_tray;
    QAction *m_trayAction = nullptr;
    QHash<QString, ServerStatusLabel *> m_statusLabels;
};
