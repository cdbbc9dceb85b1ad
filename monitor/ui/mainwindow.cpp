#include "mainwindow.h"

#include "addserverdialog.h"
#include "eventlogmodel.h"
#include "goopversion.h"
#include "monitorsession.h"
#include "passworddialog.h"
#include "peercountchart.h"
#include "peerdetailspane.h"
#include "peerproxymodel.h"
#include "peertablemodel.h"
#include "serverstatuslabel.h"
#include "traynotifier.h"

#include <QAction>
#include <QCloseEvent>
#include <QDesktopServices>
#include <QHeaderView>
#include <QInputDialog>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QScrollBar>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>
#include <QToolBar>

namespace {
const QString serversKey = QStringLiteral("servers");
const QString geometryKey = QStringLiteral("window/geometry");
const QString stateKey = QStringLiteral("window/state");
const QString topSplitterKey = QStringLiteral("window/topSplitter");
const QString mainSplitterKey = QStringLiteral("window/mainSplitter");
const QString columnsKey = QStringLiteral("peers/columns");
const QString filterKey = QStringLiteral("peers/filter");
const QString trayKey = QStringLiteral("tray/enabled");
} // namespace

MainWindow::MainWindow(MonitorSession *session, QSettings *settings, QWidget *parent)
    : QMainWindow(parent), m_session(session), m_settings(settings),
      m_proxy(new PeerProxyModel(session->peers(), this)), m_table(new QTableView),
      m_filter(new QLineEdit), m_details(new PeerDetailsPane), m_log(new QTableView),
      m_chart(new PeerCountChart(session->history())), m_topSplitter(new QSplitter(Qt::Horizontal)),
      m_mainSplitter(new QSplitter(Qt::Vertical)), m_tray(new TrayNotifier(this))
{
    setWindowTitle(tr("Goop² monitor"));
    session->setPasswordPrompt([this](const QString &server, bool failedBefore) {
        return PasswordDialog::ask(this, server, failedBefore);
    });

    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setSortCaseSensitivity(Qt::CaseInsensitive);

    m_table->setObjectName(QStringLiteral("peerTable"));
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(PeerTableModel::PeerIdColumn, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->verticalHeader()->hide();
    // Fixed row heights: a 10,000-row view must not measure every row.
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionsMovable(true);
    m_table->setColumnWidth(PeerTableModel::PeerIdColumn, 250);
    m_table->setColumnWidth(PeerTableModel::LabelColumn, 170);
    m_table->setColumnWidth(PeerTableModel::StatusColumn, 70);
    m_table->setColumnWidth(PeerTableModel::ServerColumn, 170);
    m_table->setColumnWidth(PeerTableModel::TsColumn, 70);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &MainWindow::showSelectedPeer);
    connect(m_proxy, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex &topLeft, const QModelIndex &bottomRight,
                   const QList<int> &roles) {
                const int row = m_table->currentIndex().row();
                // Whole-row changes only: the once-a-second "last seen" tick names its role.
                if (roles.isEmpty() && row >= topLeft.row() && row <= bottomRight.row())
                    showSelectedPeer();
            });
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &MainWindow::showSelectedPeer);
    // With nothing selected the details pane would stay empty: select the first peer shown.
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, [this] {
        if (!m_table->currentIndex().isValid())
            m_table->selectRow(0);
    });

    m_filter->setObjectName(QStringLiteral("peerFilter"));
    m_filter->setPlaceholderText(tr("Filter peers (ID, label, status, server)…"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, m_proxy,
            &QSortFilterProxyModel::setFilterFixedString);

    m_log->setObjectName(QStringLiteral("eventLog"));
    m_log->setModel(session->log());
    m_log->verticalHeader()->hide();
    m_log->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_log->verticalHeader()->setDefaultSectionSize(m_log->fontMetrics().height() + 6);
    m_log->horizontalHeader()->setStretchLastSection(true);
    m_log->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_log->setColumnWidth(EventLogModel::TimeColumn, 95);
    m_log->setColumnWidth(EventLogModel::ServerColumn, 150);
    m_log->setColumnWidth(EventLogModel::KindColumn, 75);
    m_log->setColumnWidth(EventLogModel::PeerColumn, 230);
    m_log->setTextElideMode(Qt::ElideMiddle);
    // Follow the newest entry unless the user scrolled up to read.
    connect(session->log(), &QAbstractItemModel::rowsInserted, this, [this] {
        if (!m_log->isVisible())
            return;
        QScrollBar *bar = m_log->verticalScrollBar();
        if (bar->value() >= bar->maximum() - 2)
            QTimer::singleShot(0, m_log, &QTableView::scrollToBottom);
    });

    // Log and chart side by side: both answer "what just happened", so neither hides the other.
    auto *bottom = new QSplitter(Qt::Horizontal);
    bottom->addWidget(m_log);
    bottom->addWidget(m_chart);
    bottom->setSizes({780, 460});

    m_topSplitter->addWidget(m_table);
    m_topSplitter->addWidget(m_details);
    m_topSplitter->setSizes({900, 340});
    m_mainSplitter->addWidget(m_topSplitter);
    m_mainSplitter->addWidget(bottom);
    m_mainSplitter->setSizes({430, 300});
    setCentralWidget(m_mainSplitter);

    buildActions();

    connect(session, &MonitorSession::serverAdded, this, &MainWindow::onServerAdded);
    connect(session, &MonitorSession::serverRemoved, this, &MainWindow::onServerRemoved);
    connect(session, &MonitorSession::peerJoined, m_tray,
            [this](const QString &, const QString &peerId, const QString &label) {
                m_tray->peerJoined(peerId, label);
            });
    connect(session, &MonitorSession::peerLeft, m_tray,
            [this](const QString &, const QString &peerId, const QString &label) {
                m_tray->peerLeft(peerId, label);
            });
    connect(m_tray, &TrayNotifier::activated, this, [this] {
        showNormal();
        raise();
        activateWindow();
    });
    for (ServerConnection *connection : session->connections())
        onServerAdded(connection);

    auto *statusTimer = new QTimer(this);
    connect(statusTimer, &QTimer::timeout, this, &MainWindow::refreshStatus);
    statusTimer->start(1000);

    restoreSettings();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions()
{
    auto *addServer = new QAction(tr("&Add server…"), this);
    addServer->setShortcut(QKeySequence(tr("Ctrl+N")));
    connect(addServer, &QAction::triggered, this, &MainWindow::addServerInteractively);
    auto *removeServer = new QAction(tr("&Remove server…"), this);
    connect(removeServer, &QAction::triggered, this, &MainWindow::removeSelectedServer);
    auto *dashboard = new QAction(tr("Open web &dashboard"), this);
    dashboard->setShortcut(QKeySequence(tr("Ctrl+D")));
    dashboard->setToolTip(tr("Open the selected peer's server (or the first one) in the browser"));
    connect(dashboard, &QAction::triggered, this, &MainWindow::openDashboard);
    auto *quit = new QAction(tr("&Quit"), this);
    quit->setShortcut(QKeySequence::Quit);
    connect(quit, &QAction::triggered, this, &QWidget::close);
    auto *focusFilter = new QAction(tr("&Filter"), this);
    focusFilter->setShortcut(QKeySequence::Find);
    connect(focusFilter, &QAction::triggered, m_filter, [this] { m_filter->setFocus(); });
    m_trayAction = new QAction(tr("&Tray icon with join/leave notifications"), this);
    m_trayAction->setCheckable(true);
    connect(m_trayAction, &QAction::toggled, m_tray, &TrayNotifier::setEnabled);
    auto *about = new QAction(tr("&About goop-monitor"), this);
    connect(about, &QAction::triggered, this, &MainWindow::showAbout);

    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(addServer);
    file->addAction(removeServer);
    file->addAction(dashboard);
    file->addSeparator();
    file->addAction(quit);
    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addAction(focusFilter);
    view->addAction(m_trayAction);
    menuBar()->addMenu(tr("&Help"))->addAction(about);

    QToolBar *toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolbar"));
    toolbar->setMovable(false);
    toolbar->addAction(addServer);
    toolbar->addAction(dashboard);
    toolbar->addSeparator();
    toolbar->addWidget(m_filter);
}

void MainWindow::startFollowing(const QList<QUrl> &servers)
{
    QList<QUrl> urls = servers;
    if (urls.isEmpty()) {
        for (const QString &text : m_settings->value(serversKey).toStringList())
            urls.append(QUrl(text));
    }
    if (urls.isEmpty())
        urls.append(QUrl(QStringLiteral("http://localhost:8787")));
    for (const QUrl &url : std::as_const(urls))
        m_session->addServer(url);
}

void MainWindow::restoreSettings()
{
    if (!restoreGeometry(m_settings->value(geometryKey).toByteArray()))
        resize(1280, 800);
    restoreState(m_settings->value(stateKey).toByteArray());
    m_topSplitter->restoreState(m_settings->value(topSplitterKey).toByteArray());
    m_mainSplitter->restoreState(m_settings->value(mainSplitterKey).toByteArray());
    m_table->horizontalHeader()->restoreState(m_settings->value(columnsKey).toByteArray());
    m_filter->setText(m_settings->value(filterKey).toString());
    m_trayAction->setChecked(m_settings->value(trayKey, false).toBool());
}

void MainWindow::saveSettings()
{
    QStringList servers;
    for (ServerConnection *connection : m_session->connections())
        servers.append(connection->server());
    m_settings->setValue(serversKey, servers);
    m_settings->setValue(geometryKey, saveGeometry());
    m_settings->setValue(stateKey, saveState());
    m_settings->setValue(topSplitterKey, m_topSplitter->saveState());
    m_settings->setValue(mainSplitterKey, m_mainSplitter->saveState());
    m_settings->setValue(columnsKey, m_table->horizontalHeader()->saveState());
    m_settings->setValue(filterKey, m_filter->text());
    m_settings->setValue(trayKey, m_trayAction->isChecked());
    m_settings->sync();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveSettings();
    event->accept();
}

void MainWindow::setFilterText(const QString &text)
{
    m_filter->setText(text);
}

void MainWindow::addServerInteractively()
{
    const QUrl url = AddServerDialog::ask(this);
    if (url.isEmpty())
        return;
    m_session->addServer(url);
    saveSettings();
}

void MainWindow::removeSelectedServer()
{
    QStringList servers;
    for (ServerConnection *connection : m_session->connections())
        servers.append(connection->server());
    if (servers.isEmpty())
        return;
    bool ok = false;
    const QString server =
        QInputDialog::getItem(this, tr("Remove server"), tr("Stop following:"), servers,
                              static_cast<int>(servers.indexOf(currentServer())), false, &ok);
    if (!ok)
        return;
    m_session->removeServer(server);
    saveSettings();
}

QString MainWindow::currentServer() const
{
    const QModelIndex current = m_proxy->mapToSource(m_table->currentIndex());
    if (current.isValid())
        return m_session->peers()->peerAt(current.row()).server;
    const auto connections = m_session->connections();
    return connections.isEmpty() ? QString() : connections.first()->server();
}

void MainWindow::openDashboard()
{
    if (ServerConnection *connection = m_session->connection(currentServer()))
        QDesktopServices::openUrl(connection->dashboardUrl());
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About goop-monitor"),
                       tr("<h3>goop-monitor %1</h3>"
                          "<p>Watches the peers of Goop² rendezvous servers live: the /peers.json "
                          "snapshot, then the /events stream.</p>"
                          "<p>Built with Qt %2, running on Qt %3.</p>")
                           .arg(QStringLiteral(GOOP_VERSION), QStringLiteral(QT_VERSION_STR),
                                QString::fromLatin1(qVersion())));
}

void MainWindow::onServerAdded(ServerConnection *connection)
{
    if (m_statusLabels.contains(connection->server()))
        return;
    auto *label = new ServerStatusLabel(connection, m_session->peers(), this);
    statusBar()->addWidget(label);
    m_statusLabels.insert(connection->server(), label);
}

void MainWindow::onServerRemoved(const QString &server)
{
    if (ServerStatusLabel *label = m_statusLabels.take(server)) {
        statusBar()->removeWidget(label);
        label->deleteLater();
    }
    m_chart->removeServer(server);
}

void MainWindow::showSelectedPeer()
{
    const QModelIndex current = m_proxy->mapToSource(m_table->currentIndex());
    if (!current.isValid()) {
        m_details->clear();
        return;
    }
    m_details->showPeer(m_session->peers()->peerAt(current.row()));
}

void MainWindow::refreshStatus()
{
    for (ServerStatusLabel *label : std::as_const(m_statusLabels))
        label->refresh();
}
