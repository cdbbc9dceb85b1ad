#pragma once

#include <QDialog>
#include <QUrl>

class QDialogButtonBox;
class QLabel;
class QLineEdit;

// Asks for one server URL; OK stays disabled until the text is an http(s) URL.
class AddServerDialog : public QDialog
{
    Q_OBJECT

public:
    explicit AddServerDialog(QWidget *parent = nullptr);

    QUrl url() const;
    // The URL the user accepted, or an empty QUrl if cancelled.
    static QUrl ask(QWidget *parent);

private:
    void validate();

    QLineEdit *m_edit;
    QLabel *m_hint;
    QDialogButtonBox *m_buttons;
};
