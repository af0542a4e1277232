"""Dictionary variants: which candidate (technology, code) rows each variant keeps.

Every variant is a 0/1 membership over the candidate rows (the union of the candidates file
and the dictionary). Kinds (docs/sensitivity.md):

- ``dictionary``: the dictionary as given (rows whose decision is not a rejection);
- ``threshold``: candidates with score >= tau, tau on a grid over the observed scores;
- ``topk``: the best k candidates of every technology (rank <= k);
- ``jackknife``: the dictionary without one technology's codes;
- ``bootstrap``: technologies drawn with replacement from the dictionary's technologies
  (seeded). A technology drawn m_j times gets weight m_j, and a patent covered by the
  dictionary codes of n_p technologies counts sum_{j covers p} m_j / n_p: the expected count
  equals the dictionary's (E m_j = 1), so the spread is what the choice of catalogue items
  induces, without the shrinkage of keeping only distinct draws;
- ``auto``: the matcher's own dictionary (candidates whose match-time decision was ``auto``),
  when a review changed it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from coretech.errors import InputError
from coretech.matching.decisions import read_decisions

KINDS = ("dictionary", "threshold", "topk", "jackknife", "bootstrap", "auto")
DEFAULT_TOPK = (1, 2, 3, 5, 10, 20)


@dataclass(frozen=True)
class Variant:
    """One dictionary variant: a name, its kind, its parameter and the rows it keeps."""

    name: str
    kind: str
    parameter: str
    member: np.ndarray  # bool over candidate rows
    tech_weight: dict[str, float] | None = None  # bootstrap: draws per technology


@dataclass
class Candidates:
    """The candidate rows: ``tech_id, ipc_code, score, rank, in_dictionary, auto``."""

    frame: pd.DataFrame
    reviewed: bool = False  # the dictionary carries review decisions (not only 'auto')

    @property
    def codes(self) -> list[str]:
        return self.frame["ipc_code"].tolist()

    @property
    def base(self) -> np.ndarray:
        return self.frame["in_dictionary"].to_numpy(bool)


def combine(dictionary: pd.DataFrame, candidates: pd.DataFrame | None, *,
            files: tuple[object, object] = (None, None)) -> Candidates:
    """Union of dictionary and candidate rows on (tech_id, ipc_code), one row each.

    ``score`` and ``rank`` come from the candidates file (else the dictionary); ``auto`` marks
    rows the matcher accepted itself (match-time decision ``auto`` in the candidates file).
    Decisions are read with the shared review vocabulary (:mod:`coretech.matching.decisions`:
    ``reject``, ``拒绝`` ... are rejections; an unknown word is an error naming ``files``' row).
    """
    def norm(df: pd.DataFrame, file: object) -> pd.DataFrame:
        out = df.copy()
        out["tech_id"] = out["tech_id"].astype(str)
        out["ipc_code"] = out["ipc_code"].astype(str).str.strip()
        for c in ("score", "rank"):
            out[c] = pd.to_numeric(out[c], errors="coerce") if c in out.columns else np.nan
        dec = (read_decisions(out["decision"], file=file) if "decision" in out.columns
               else [None] * len(out))
        out["decision"] = [x or "" for x in dec]
        return out

    d = norm(dictionary, files[0])
    reviewed = bool((~d["decision"].isin({"auto", ""})).any())
    d = d[d["decision"] != "rejected"]
    keep = ["tech_id", "ipc_code", "score", "rank", "decision"]
    if candidates is not None and len(candidates):
        c = norm(candidates, files[1])[keep].drop_duplicates(["tech_id", "ipc_code"])
        c["auto"] = c["decision"].isin({"auto"})
        merged = c.merge(d[["tech_id", "ipc_code"]].drop_duplicates().assign(in_dictionary=True),
                         on=["tech_id", "ipc_code"], how="outer")
        extra = d.drop_duplicates(["tech_id", "ipc_code"]).set_index(["tech_id", "ipc_code"])
        idx = pd.MultiIndex.from_frame(merged[["tech_id", "ipc_code"]])
        for col in ("score", "rank"):
            fill = extra[col].reindex(idx).to_numpy()
            merged[col] = merged[col].to_numpy(float)
            merged[col] = np.where(np.isnan(merged[col]), fill, merged[col])
        merged["auto"] = merged["auto"].fillna(False).astype(bool)
    else:
        merged = d[keep].drop_duplicates(["tech_id", "ipc_code"]).assign(
            in_dictionary=True, auto=lambda x: x["decision"].isin({"auto", ""}))
    merged["in_dictionary"] = merged["in_dictionary"].fillna(False).astype(bool)
    merged = merged.sort_values(["tech_id", "ipc_code"], kind="mergesort").reset_index(drop=True)
    return Candidates(merged[["tech_id", "ipc_code", "score", "rank", "in_dictionary", "auto"]],
                      reviewed=reviewed)


def threshold_grid(scores: np.ndarray, n: int = 10) -> np.ndarray:
    """``n`` thresholds evenly spaced over the observed score range (rounded to 1e-4)."""
    s = np.asarray(scores, dtype=float)
    s = s[np.isfinite(s)]
    if len(s) == 0:
        return np.zeros(0)
    return np.unique(np.round(np.linspace(s.min(), s.max(), n), 4))


def generate(
    cands: Candidates,
    *,
    kinds: Sequence[str] = KINDS,
    thresholds: Sequence[float] | None = None,
    n_thresholds: int = 10,
    topk: Sequence[int] = DEFAULT_TOPK,
    n_bootstrap: int = 100,
    seed: int = 0,
) -> Iterator[Variant]:
    """The variants of ``kinds``, the dictionary first (the reference of every comparison)."""
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise InputError(f"unknown sensitivity kind {bad[0]!r}; expected one of {', '.join(KINDS)}")
    f = cands.frame
    base = cands.base
    if not base.any():
        raise InputError("the dictionary has no accepted code: nothing to vary")
    yield Variant("dictionary", "dictionary", "", base)
    score = f["score"].to_numpy(float)
    rank = f["rank"].to_numpy(float)
    if "threshold" in kinds:
        grid = np.asarray(thresholds, float) if thresholds else threshold_grid(score, n_thresholds)
        for t in grid:
            yield Variant(f"threshold>={t:g}", "threshold", f"{t:g}", np.nan_to_num(score, nan=-np.inf) >= t)
    if "topk" in kinds:
        for k in topk:
            if int(k) < 1:
                raise InputError(f"top-k values must be >= 1, got {k}")
            yield Variant(f"top{int(k)}", "topk", str(int(k)), np.nan_to_num(rank, nan=np.inf) <= k)
    techs = f["tech_id"].to_numpy()
    base_techs = np.unique(techs[base])
    if "jackknife" in kinds:
        for t in base_techs:
            yield Variant(f"without {t}", "jackknife", str(t), base & (techs != t))
    if "bootstrap" in kinds and n_bootstrap > 0:
        rng = np.random.default_rng(seed)
        for b in range(int(n_bootstrap)):
            drawn = rng.choice(len(base_techs), size=len(base_techs), replace=True)
            m = np.bincount(drawn, minlength=len(base_techs))
            yield Variant(f"bootstrap {b + 1}", "bootstrap", str(b + 1),
                          base & np.isin(techs, base_techs[m > 0]),
                          tech_weight={str(t): float(k) for t, k in zip(base_techs, m, strict=True)})
    if "auto" in kinds and cands.reviewed:
        auto = f["auto"].to_numpy(bool)
        if auto.any() and not np.array_equal(auto, base):
            yield Variant("auto (before review)", "auto", "", auto)
