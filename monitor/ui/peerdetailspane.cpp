#include "peerdetailspane.h"

#include "peerrecord.h"

#include <QAction>
#include <QClipboard>
#include <QDateTime>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

static QString valueText(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::String:
        return value.toString();
    case QJsonValue::Double:
        return QString::number(value.toInteger(), 10);
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    case QJsonValue::Undefined:
        break;
    }
    return {};
}

PeerDetailsPane::PeerDetailsPane(QWidget *parent)
    : QWidget(parent), m_title(new QLabel(this)), m_fields(new QTreeWidget(this))
{
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_title->setWordWrap(true);
    m_fields->setObjectName(QStringLiteral("peerFields"));
    m_fields->setColumnCount(2);
    m_fields->setHeaderLabels({tr("Field"), tr("Value")});
    m_fields->setRootIsDecorated(false);
    m_fields->setAlternatingRowColors(true);
    m_fields->setWordWrap(true);
    m_fields->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_fields->setContextMenuPolicy(Qt::ActionsContextMenu);

    const auto addAction = [this](const QString &text, const QKeySequence &keys,
                                  void (PeerDetailsPane::*slot)() const) {
        auto *action = new QAction(text, this);
        action->setShortcut(keys);
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(action, &QAction::triggered, this, slot);
        m_fields->addAction(action);
        auto *button = new QToolButton(this);
        button->setDefaultAction(action);
        return button;
    };
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(addAction(tr("Copy peer ID"), QKeySequence(), &PeerDetailsPane::copyPeerId));
    buttons->addWidget(
        addAction(tr("Copy value"), QKeySequence::Copy, &PeerDetailsPane::copyValue));
    buttons->addWidget(addAction(tr("Copy as JSON"), QKeySequence(), &PeerDetailsPane::copyJson));
    buttons->addStretch();

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_title);
    layout->addWidget(m_fields, 1);
    layout->addLayout(buttons);
    clear();
}

void PeerDetailsPane::showPeer(const PeerRecord &peer)
{
    // A batch of updates tells the window that a span of rows changed, the selected one often
    // among them unchanged: rebuilding the tree then would only flicker and cost time.
    if (isEnabled() && peer.peerId == m_peerId && peer.server == m_server &&
        peer.label == m_label && peer.fields == m_json)
        return;
    m_peerId = peer.peerId;
    m_server = peer.server;
    m_label = peer.label;
    m_json = peer.fields;
    m_title->setText(
        QStringLiteral("<b>%1</b><br><small>%2</small>")
            .arg((peer.label.isEmpty() ? tr("(no label)") : peer.label).toHtmlEscaped(),
                 peer.server.toHtmlEscaped()));
    const QString current = m_fields->currentItem() ? m_fields->currentItem()->text(0) : QString();
    m_fields->clear();
    for (auto it = m_json.constBegin(); it != m_json.constEnd(); ++it) {
        QString text = valueText(it.value());
        // Millisecond stamps are unreadable as numbers: show the time beside them.
        if (it.value().isDouble() &&
            (it.key() == QLatin1String("ts") || it.key() == QLatin1String("last_seen")))
            text = QDateTime::fromMSecsSinceEpoch(it.value().toInteger())
                       .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")) +
                   QStringLiteral("  (") + text + QLatin1Char(')');
        auto *item = new QTreeWidgetItem(m_fields, {it.key(), text});
        item->setData(1, Qt::UserRole, valueText(it.value())); // what "Copy value" copies
        item->setToolTip(1, item->text(1));
        if (it.key() == current)
            m_fields->setCurrentItem(item);
    }
    setEnabled(true);
}

void PeerDetailsPane::clear()
{
    m_peerId.clear();
    m_server.clear();
    m_label.clear();
    m_json = {};
    m_fields->clear();
    m_title->setText(tr("<i>Select a peer to see all its fields.</i>"));
    setEnabled(false);
}

int PeerDetailsPane::fieldCount() const
{
    return m_fields->topLevelItemCount();
}

void PeerDetailsPane::copyPeerId() const
{
    QGuiApplication::clipboard()->setText(m_peerId);
}

void PeerDetailsPane::copyValue() const
{
    if (const QTreeWidgetItem *item = m_fields->currentItem())
        QGuiApplication::clipboard()->setText(item->data(1, Qt::UserRole).toString());
}

void PeerDetailsPane::copyJson() const
{
    QGuiApplication::clipboard()->setText(
        QString::fromUtf8(QJsonDocument(m_json).toJson(QJsonDocument::Indented)));
}
