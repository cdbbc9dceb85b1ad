#pragma once

#include <QSortFilterProxyModel>

class PeerTableModel;

// The sorted, filtered view of the peer table. It compares rows through
// PeerTableModel::lessThan() instead of two data() QVariants per comparison: a batch of events
// that moves many rows re-sorts the table, and with 10,000 rows that sort is most of its cost.
class PeerProxyModel : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit PeerProxyModel(PeerTableModel *peers, QObject *parent = nullptr);

protected:
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    void updateSortSettings();

    PeerTableModel *m_peers;
    // Read once per settings change, not per comparison (each getter is an out-of-line call).
    bool m_fastSort = false;
    Qt::CaseSensitivity m_caseSensitivity = Qt::CaseSensitive;
};
