#include "peerproxymodel.h"

#include "peertablemodel.h"

PeerProxyModel::PeerProxyModel(PeerTableModel *peers, QObject *parent)
    : QSortFilterProxyModel(parent), m_peers(peers)
{
    connect(this, &QSortFilterProxyModel::sortRoleChanged, this,
            &PeerProxyModel::updateSortSettings);
    connect(this, &QSortFilterProxyModel::sortCaseSensitivityChanged, this,
            &PeerProxyModel::updateSortSettings);
    connect(this, &QSortFilterProxyModel::sortLocaleAwareChanged, this,
            &PeerProxyModel::updateSortSettings);
    connect(this, &QAbstractProxyModel::sourceModelChanged, this,
            &PeerProxyModel::updateSortSettings);
    setSourceModel(peers);
    setSortRole(PeerTableModel::SortRole);
    updateSortSettings();
}

void PeerProxyModel::updateSortSettings()
{
    // The fast path knows the sort role's order only; anything else goes the generic way.
    const bool fastSort =
        sourceModel() == m_peers && sortRole() == PeerTableModel::SortRole && !isSortLocaleAware();
    const Qt::CaseSensitivity caseSensitivity = sortCaseSensitivity();
    if (fastSort == m_fastSort && caseSensitivity == m_caseSensitivity)
        return;
    m_fastSort = fastSort;
    m_caseSensitivity = caseSensitivity;
    // The setters re-sort before they signal, that is with the settings cached until now.
    if (sortColumn() >= 0)
        invalidate();
}

bool PeerProxyModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    if (!m_fastSort)
        return QSortFilterProxyModel::lessThan(left, right);
    return m_peers->lessThan(left.row(), right.row(), left.column(), m_caseSensitivity);
}
