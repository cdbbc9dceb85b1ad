#include "passworddialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>

PasswordDialog::PasswordDialog(const QString &server, bool failedBefore, QWidget *parent)
    : QDialog(parent), m_user(new QLineEdit(QStringLiteral("admin"))), m_password(new QLineEdit)
{
    setWindowTitle(tr("Sign in to %1").arg(server));
    m_password->setEchoMode(QLineEdit::Password);
    auto *message = new QLabel(
        failedBefore ? tr("%1 refused that password. Try again:").arg(server)
                     : tr("%1 shows its peers to operators only. Its admin password:").arg(server));
    message->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *form = new QFormLayout(this);
    form->addRow(message);
    form->addRow(tr("User:"), m_user);
    form->addRow(tr("Password:"), m_password);
    form->addRow(buttons);
    m_password->setFocus();
}

std::optional<Credentials> PasswordDialog::ask(QWidget *parent, const QString &server,
                                               bool failedBefore)
{
    PasswordDialog dialog(server, failedBefore, parent);
    if (dialog.exec() != QDialog::Accepted)
        return std::nullopt;
    return Credentials{dialog.m_user->text(), dialog.m_password->text()};
}
