#include "addserverdialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

AddServerDialog::AddServerDialog(QWidget *parent)
    : QDialog(parent), m_edit(new QLineEdit(this)), m_hint(new QLabel(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("Add server"));
    m_edit->setPlaceholderText(QStringLiteral("http://rendezvous.example.org:8787"));
    m_edit->setMinimumWidth(360);
    auto *layout = new QFormLayout(this);
    layout->addRow(tr("Server URL:"), m_edit);
    layout->addRow(m_hint);
    layout->addRow(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_edit, &QLineEdit::textChanged, this, &AddServerDialog::validate);
    validate();
}

QUrl AddServerDialog::url() const
{
    return QUrl::fromUserInput(m_edit->text().trimmed());
}

void AddServerDialog::validate()
{
    const QUrl candidate = url();
    const bool ok = candidate.isValid() && !candidate.host().isEmpty() &&
                    (candidate.scheme() == QLatin1String("http") ||
                     candidate.scheme() == QLatin1String("https"));
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(ok);
    m_hint->setText(ok || m_edit->text().isEmpty() ? QString()
                                                   : tr("Enter an http:// or https:// URL."));
}

QUrl AddServerDialog::ask(QWidget *parent)
{
    AddServerDialog dialog(parent);
    return dialog.exec() == QDialog::Accepted ? dialog.url() : QUrl();
}
