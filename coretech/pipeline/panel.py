"""The models' panel (stage ``panel``): the input panel, the computed indicators and the
measured ``Sicoughs`` joined on (city, year) by :func:`assemble_panel`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError


def assemble_panel(
    panel: str | Path,
    *,
    out: str | Path,
    sicoughs: str | Path | None = None,
    indicators: str | Path | None = None,
    merge_sicoughs: str = "column",
    min_lag_share: float = 0.0,
) -> dict[str, Any]:
    """Join the input panel, computed indicators and the measured Sicoughs on (city, year).

    ``merge_sicoughs``: with ``"column"`` the measured variable is added as
    ``Sicoughs_measured`` when the panel already has ``Sicoughs`` (and as ``Sicoughs`` when it
    has none); with ``"replace"`` it replaces the panel's ``Sicoughs`` (city-years without a
    measured value keep none). City-years whose ``lag_share_cum`` (the denominator of eq. 5)
    is below ``min_lag_share`` get no measured value (counted): eq. (5) divides by a share
    near zero for the last years, e.g. 0.002 one year before the end with CNIPA-like lags. Indicator columns the panel already has are replaced by the
    computed ones. Returns counts of what was merged.
    """
    from coretech.io import read_table, write_table

    if merge_sicoughs not in ("column", "replace"):
        raise InputError(f"merge_sicoughs must be 'column' or 'replace', got {merge_sicoughs!r}")
    if not 0.0 <= float(min_lag_share) <= 1.0:
        raise InputError(f"min_lag_share must be between 0 and 1, got {min_lag_share!r}")
    df = read_table(panel, as_text=False, required=("city", "year"))
    df["city"] = df["city"].astype(str)
    df["year"] = pd.to_numeric(df["year"], errors="raise").astype(int)
    dup = df.duplicated(["city", "year"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            f"duplicate city-year {df['city'].iat[i]} {df['year'].iat[i]}", file=panel, row=i + 2
        )
    counts: dict[str, Any] = {"panel_rows": len(df)}
    if indicators is not None and Path(indicators).is_file():
        ind = read_table(indicators, as_text=False, required=("city", "year"))
        ind["city"] = ind["city"].astype(str)
        ind["year"] = pd.to_numeric(ind["year"]).astype(int)
        cols = [c for c in ind.columns if c not in ("city", "year")]
        df = df.drop(columns=[c for c in cols if c in df.columns]).merge(
            ind, on=["city", "year"], how="left", validate="one_to_one"
        )
        counts["indicator_columns"] = cols
    if sicoughs is not None and Path(sicoughs).is_file():
        s = read_table(sicoughs, as_text=False, required=("city", "year", "sicoughs"))
        s = s.assign(city=s["city"].astype(str), year=pd.to_numeric(s["year"]).astype(int))
        if min_lag_share > 0 and "lag_share_cum" in s.columns:
            low = pd.to_numeric(s["lag_share_cum"], errors="coerce").fillna(0) < min_lag_share
            counts["sicoughs_below_min_lag_share"] = int(low.sum())
            counts["years_below_min_lag_share"] = sorted(int(y) for y in s.loc[low, "year"].unique())
            s = s.assign(sicoughs=s["sicoughs"].where(~low))
        s = s[["city", "year", "sicoughs"]]
        target = (
            "Sicoughs_measured"
            if merge_sicoughs == "column" and "Sicoughs" in df.columns
            else "Sicoughs"
        )
        if target in df.columns:
            df = df.drop(columns=[target])
        merged = df.merge(s.rename(columns={"sicoughs": target}), on=["city", "year"], how="left")
        counts["sicoughs_column"] = target
        counts["sicoughs_matched_city_years"] = int(merged[target].notna().sum())
        counts["sicoughs_unmatched_city_years"] = int(merged[target].isna().sum())
        if target != "Sicoughs" and "Sicoughs" in merged.columns:
            ok = merged[[target, "Sicoughs"]].dropna()
            if len(ok) > 2:
                counts["corr_measured_vs_panel"] = round(float(ok.corr().iloc[0, 1]), 6)
        df = merged
    df = df.sort_values(["city", "year"], kind="mergesort").reset_index(drop=True)
    write_table(df, out)
    counts["rows"] = len(df)
    return {"stage": "panel", "outputs": {"panel": str(out)}, "counts": counts}
