"""Stock-Yogo critical values for the Cragg-Donald F (ivreg2's ``s_cdsy``).

The identification, weak-instrument and first-stage statistics themselves are in
:mod:`coretech.models.ivdiag` (ivreg2's formulas, with its degrees-of-freedom conventions).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

SIZE_LEVELS = (10, 15, 20, 25)
BIAS_LEVELS = (5, 10, 20, 30)


@lru_cache(maxsize=1)
def stock_yogo_table() -> pd.DataFrame:
    """The shipped Stock & Yogo (2005) critical values (ivreg2's ``s_cdsy``).

    Columns: ``test`` (``size``: maximal 2SLS Wald test size, Table 5.2, 1-2 endogenous
    regressors; ``bias``: maximal 2SLS relative bias, Table 5.1, 1-3 endogenous regressors and
    at least K1+2 instruments), ``level`` (percent), ``n_endog``, ``n_instruments`` (1-30),
    ``critical_value``.
    """
    with resources.files("coretech.data").joinpath("stock_yogo.csv").open("rb") as fh:
        return pd.read_csv(fh)


def stock_yogo(n_endog: int, n_instruments: int, *, test: str = "size", level: int = 10) -> float:
    """Critical value for the Cragg-Donald F; NaN when Stock and Yogo tabulate none."""
    t = stock_yogo_table()
    hit = t[(t.test == test) & (t.level == level) & (t.n_endog == n_endog) & (t.n_instruments == n_instruments)]
    return float(hit.critical_value.iloc[0]) if len(hit) else float("nan")
