"""coretech.indicators: the paper's city indicators (METHODS.md §2-6) and panel helpers.

Location quotient (Cialomy, eq. 4), entropy-weight index (Nycives, Table 1), PCA composite
(robustness), factor-market distortion (Actros, eqs. 6-10), industrial-structure upgrading
(Irading, eq. 11), and winsorising / gap filling / logs. ``lag_distribution`` and
``lag_adjust`` (eq. 5) live in :mod:`coretech.indicators.lag` and are re-exported here.
"""

from coretech.indicators.pca import PCAIndex, pca_index
from coretech.indicators.transforms import (
    check_unique,
    find_duplicates,
    interpolate_panel,
    log_column,
    to_numeric,
    winsorize,
)

__all__ = [
    "PCAIndex",
    "check_unique",
    "find_duplicates",
    "interpolate_panel",
    "log_column",
    "pca_index",
    "to_numeric",
    "winsorize",
]
