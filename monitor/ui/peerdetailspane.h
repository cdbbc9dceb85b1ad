#pragma once

#include <QJsonObject>
#include <QWidget>

class QLabel;
class QTreeWidget;
struct PeerRecord;

// Every field of the selected peer, the extra ones newer peers send included, with actions to
// copy the peer ID, one value, or the whole record as JSON.
class PeerDetailsPane : public QWidget
{
    Q_OBJECT

public:
    explicit PeerDetailsPane(QWidget *parent = nullptr);

    void showPeer(const PeerRecord &peer);
    void clear();
    QString peerId() const { return m_peerId; }
    int fieldCount() const;

    void copyPeerId() const;
    void copyValue() const;
    void copyJson() const;

private:
    QLabel *m_title;
    QTreeWidget *m_fields;
    QString m_peerId;
    QString m_server;
    QString m_label;
    QJsonObject m_json;
};
