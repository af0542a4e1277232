"""coretech.indicators: the paper's city indicators (METHODS.md §2-6) and panel helpers.

Location quotient (Cialomy, eq. 4), entropy-weight index (Nycives, Table 1), PCA composite
(robustness), factor-market distortion (Actros, eqs. 6-10), industrial-structure upgrading
(Irading, eq. 11), and winsorising / gap filling / logs. ``lag_distribution`` and
``lag_adjust`` (eq. 5) live in :mod:`coretech.indicators.lag` (the breakthrough stage) and
are re-exported here.
"""

from coretech.indicators.distortion import (
    TranslogDistortion,
    perpetual_inventory,
    translog_distortion,
)
from coretech.indicators.entropy import EntropyIndex, entropy_index, entropy_weights
from coretech.indicators.lag import lag_adjust, lag_distribution
from coretech.indicators.lq import location_quotient
from coretech.indicators.pca import PCAIndex, pca_index
from coretech.indicators.run import run_indicators
from coretech.indicators.spec import load_spec, pillar_weights
from coretech.indicators.structure import (
    advanced_structure,
    structure_upgrading,
    theil_rationalization,
)
from coretech.indicators.transforms import (
    check_unique,
    find_duplicates,
    interpolate_panel,
    log_column,
    to_numeric,
    winsorize,
)

__all__ = [
    "EntropyIndex",
    "PCAIndex",
    "TranslogDistortion",
    "advanced_structure",
    "check_unique",
    "entropy_index",
    "entropy_weights",
    "find_duplicates",
    "interpolate_panel",
    "lag_adjust",
    "lag_distribution",
    "load_spec",
    "location_quotient",
    "log_column",
    "pca_index",
    "perpetual_inventory",
    "pillar_weights",
    "run_indicators",
    "structure_upgrading",
    "theil_rationalization",
    "to_numeric",
    "translog_distortion",
    "winsorize",
]
