"""The breakthrough variable (METHODS.md §2): patents -> city-year core-technology counts ->
grant-lag adjustment, eq. (5) -> Sicoughs = ln(1 + K_adj).

    K_raw(c, t) = #{patents of city c applied in t, granted by T, with a symbol within a
                   dictionary code}                     (each patent counts once per city-year)
    K_adj(c, t) = K_raw(c, t) / sum_{s=0}^{T-t} T_s                                  (eq. 5)
    Sicoughs(c, t) = ln(1 + K_adj(c, t))

One module per step, in the order the data flows:

1. read + validate the patent file: :mod:`coretech.indicators.patents` (formats, headers,
   dates, IPC notations) and the row checks of :mod:`.counter`;
2. symbol -> dictionary: :mod:`.dictionary` (dictionary, scheme, cover table, the symbol
   table) and :mod:`.symbols` (the IPC pass);
3. count: :mod:`.counter` (one checking-and-counting pass, duplicates, locations, rejects);
4. eq. (5) / lag: :mod:`.adjust` (T_s, K_adj, bootstrap, national table);

and :mod:`.command` (:func:`run_breakthrough`, the entry point behind ``coretech
breakthrough``). Every public name is importable from here.
"""

from coretech.indicators.breakthrough.adjust import (
    LARGE_FACTOR,
    OUTPUT_COLUMNS,
    adjust_counts,
    bootstrap_interval,
    estimate_shares,
    lag_table_frame,
    national_table,
)
from coretech.indicators.breakthrough.command import _parse_window, run_breakthrough, summary_lines
from coretech.indicators.breakthrough.counter import (
    FIRST_YEAR,
    LAG_BY,
    LAG_SAMPLES,
    BreakthroughCounter,
)
from coretech.indicators.breakthrough.dictionary import (
    COVER_LEVELS,
    Scheme,
    codes_not_in_scheme,
    cover_table,
    load_hierarchy,
    load_scheme,
    read_dictionary,
    scheme_cover,
)

__all__ = [
    "COVER_LEVELS",
    "FIRST_YEAR",
    "LAG_BY",
    "LAG_SAMPLES",
    "LARGE_FACTOR",
    "OUTPUT_COLUMNS",
    "BreakthroughCounter",
    "Scheme",
    "_parse_window",
    "adjust_counts",
    "bootstrap_interval",
    "codes_not_in_scheme",
    "cover_table",
    "estimate_shares",
    "lag_table_frame",
    "load_hierarchy",
    "load_scheme",
    "national_table",
    "read_dictionary",
    "run_breakthrough",
    "scheme_cover",
    "summary_lines",
]
