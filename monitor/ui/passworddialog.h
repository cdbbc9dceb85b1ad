#pragma once

#include "credentialstore.h"

#include <QDialog>

class QLineEdit;

// Asks for the operators' credentials of one server (user admin, as the server's door has it).
class PasswordDialog : public QDialog
{
    Q_OBJECT

public:
    PasswordDialog(const QString &server, bool failedBefore, QWidget *parent = nullptr);

    // What the user typed, or nullopt if cancelled.
    static std::optional<Credentials> ask(QWidget *parent, const QString &server,
                                          bool failedBefore);

private:
    QLineEdit *m_user;
    QLineEdit *m_password;
};
