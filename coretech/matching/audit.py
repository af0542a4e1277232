"""Match quality of a dictionary against a gold concordance: the metric functions.

Definitions (issue 5, exactly). At a level L (``subclass``, ``main_group``, ``subgroup``)
every accepted code and every gold pattern is truncated to L; a pattern coarser than L stays
as it is and contains everything under it. For one technology:

* P = the set of truncated accepted codes, G = the set of truncated gold patterns.
* A code c in P is *correct* when it lies within some g in G and within none of that
  technology's exclusions that are at L or coarser (an exclusion removes its subtree).
* A gold pattern g is *covered* when some code of P overlaps it: a correct code lies within
  g, or g lies within the code (the code is broader and holds all of g; such a code is still
  not correct, so broad codes earn recall but cost precision).

Micro-averaged over technologies::

    precision = sum_t |{c in P_t correct}| / sum_t |P_t|
    recall    = sum_t |{g in G_t covered}| / sum_t |G_t|
    f1        = 2 precision recall / (precision + recall)

A pattern at L keeps its meaning: ``G06F21/62*`` at subgroup level holds the subgroups under
it in the scheme's dot hierarchy (pass ``hierarchy``; without one it holds only itself). A
pattern finer than L becomes its ancestor at L and then matches that code exactly.

Gold patterns whose symbol the scheme lacks (e.g. ``H01L21*`` against IPC 2026.01, which moved
H01L to H10B ... H10W) are set apart and counted (``n_gold_codes_not_in_scheme``), not scored
as misses; a technology left with no pattern is not evaluated. Pass ``scheme_codes`` (the
scheme's ``code`` column) to do this; without it every pattern counts.

Candidate metrics (subclass level, from the candidates file, mean over evaluated
technologies; a technology without candidates scores 0):

* ``hit_at_1``: the top candidate's subclass is correct (lies within the gold's subclasses
  and no exclusion) -- 1 or 0 per technology.
* ``recall_at_10``: share of the technology's gold subclasses covered by the subclasses of its
  top 10 candidates.

The top candidates are those with the smallest ``rank`` (ties: higher ``score``, then code).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from coretech.errors import InputError, data_row
from coretech.io import read_table
from coretech.ipc import Hierarchy, IPCSymbolError, Pattern, parse
from coretech.ipc.symbols import LEVEL_OF

LEVELS: tuple[str, ...] = ("subclass", "main_group", "subgroup")
#: Dictionary decisions that mean "this code is in the dictionary".
ACCEPTED_DECISIONS = frozenset({"auto", "accepted", "added", "accept", ""})


# --------------------------------------------------------------------------- inputs
def as_gold(gold: pd.DataFrame | str | Path) -> pd.DataFrame:
    """A gold frame (from :func:`coretech.matching.gold.read_gold`), reading a path if given."""
    if isinstance(gold, (str, Path)):
        from coretech.matching.gold import read_gold

        return read_gold(gold)
    missing = [c for c in ("tech_id", "include") if c not in gold.columns]
    if missing:
        raise InputError(f"a gold frame needs columns tech_id, include, exclude; missing {missing}")
    return gold


def as_codes(table: pd.DataFrame | str | Path, *, accepted_only: bool) -> pd.DataFrame:
    """Validated ``tech_id, ipc_code, score, rank, decision`` rows of a dictionary/candidates.

    ``accepted_only`` keeps the dictionary's accepted rows (decision auto/accepted/added or
    empty), dropping ``rejected``. Codes are normalised; a bad one is an InputError naming
    the file, row and column.
    """
    if isinstance(table, (str, Path)):
        df = read_table(table, required=("tech_id", "ipc_code"))
    else:
        df = table
        for col in ("tech_id", "ipc_code"):
            if col not in df.columns:
                raise InputError(f"missing column {col}", file=df.attrs.get("source"))
    source = df.attrs.get("source")
    codes = []
    for i, v in enumerate(df["ipc_code"].tolist()):
        try:
            codes.append(str(parse(str(v))))
        except IPCSymbolError as exc:
            raise InputError(exc.message, file=source, row=data_row(i), column="ipc_code") from exc
    out = pd.DataFrame({"tech_id": df["tech_id"].astype(str).str.strip(), "ipc_code": codes})
    out["score"] = _numeric(df, "score", source, default=np.nan)
    out["rank"] = _numeric(df, "rank", source, default=np.nan)
    out["decision"] = (
        df["decision"].fillna("").astype(str).str.strip().str.lower()
        if "decision" in df.columns else ""
    )
    out.index = df.index
    if accepted_only:
        out = out[out["decision"] != "rejected"]
    out.attrs["source"] = source
    return out


def _numeric(df: pd.DataFrame, col: str, source: object, default: float) -> pd.Series:
    if col not in df.columns:
        return pd.Series(default, index=df.index, dtype=float)
    raw = df[col]
    vals = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
    bad = vals.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"expected a number, got {raw.iloc[i]!r}", file=source,
                         row=data_row(i), column=col)
    return vals.astype(float)


# --------------------------------------------------------------------------- containment
@dataclass(frozen=True)
class _Node:
    """A truncated pattern: ``symbol`` plus whether it holds its subtree."""

    symbol: str
    subtree: bool


@lru_cache(maxsize=1 << 16)
def _level_of(symbol: str) -> int:
    return LEVEL_OF[parse(symbol).kind]


def _truncate(symbol: str, level: str) -> str:
    return str(parse(symbol).truncate(level))  # type: ignore[arg-type]


def _node(pattern: Pattern, level: str) -> _Node:
    """Truncate a pattern to ``level`` (coarser patterns keep their whole subtree)."""
    lv = LEVEL_OF[level]
    pk = _level_of(pattern.symbol)
    if pk < lv:
        return _Node(pattern.symbol, True)
    if pk == lv:
        return _Node(pattern.symbol, pattern.subtree)
    return _Node(_truncate(pattern.symbol, level), False)


def _within(code: str, node: _Node, hierarchy: Hierarchy | None) -> bool:
    """Is ``code`` the node's symbol or -- for a subtree node -- under it?"""
    if code == node.symbol:
        return True
    if not node.subtree:
        return False
    ck, nk = _level_of(code), _level_of(node.symbol)
    if nk < LEVEL_OF["subgroup"]:
        return ck > nk and _truncate(code, parse(node.symbol).kind) == node.symbol
    if ck != LEVEL_OF["subgroup"] or hierarchy is None:
        return False
    if _truncate(code, "main_group") != _truncate(node.symbol, "main_group"):
        return False
    return hierarchy.is_within(code, node.symbol)


@dataclass
class _TechGold:
    tech_id: str
    include: list[Pattern]
    exclude: list[Pattern]
    not_in_scheme: list[str] = field(default_factory=list)


def _prepare_gold(gold: pd.DataFrame, scheme_codes: Iterable[str] | None) -> list[_TechGold]:
    scheme = None if scheme_codes is None else set(scheme_codes)
    out = []
    for rec in gold.to_dict("records"):
        inc = [Pattern.parse(p) for p in rec["include"]]
        exc = [Pattern.parse(p) for p in (rec.get("exclude") or ())]
        tg = _TechGold(str(rec["tech_id"]), [], [])
        for p in inc:
            if scheme is not None and p.symbol not in scheme:
                tg.not_in_scheme.append(str(p))
            else:
                tg.include.append(p)
        tg.exclude = [e for e in exc if scheme is None or e.symbol in scheme]
        out.append(tg)
    return out


@dataclass
class _TechEval:
    """One technology at one level: its truncated codes and gold nodes."""

    tech_id: str
    codes: list[str]  # truncated, distinct
    scores: np.ndarray  # best score of the original codes behind each truncated code
    correct: np.ndarray  # bool per code
    gold: list[_Node]
    best_cover: np.ndarray  # per gold node: best score of a covering code (-inf: uncovered)
    covered: np.ndarray  # bool per gold node
    not_in_scheme: int


def _evaluate(codes: pd.DataFrame, tg: _TechGold, level: str,
              hierarchy: Hierarchy | None) -> _TechEval:
    lv = LEVEL_OF[level]
    best: dict[str, float] = {}
    for code, score in zip(codes["ipc_code"], codes["score"], strict=True):
        t = _truncate(code, level)
        s = -np.inf if pd.isna(score) else float(score)
        if t not in best or s > best[t]:
            best[t] = s
    merged_nodes: dict[str, bool] = {}  # one node per symbol; subtree if any pattern says so
    for p in tg.include:
        nd = _node(p, level)
        merged_nodes[nd.symbol] = merged_nodes.get(nd.symbol, False) or nd.subtree
    gold_nodes = [_Node(sym, sub) for sym, sub in merged_nodes.items()]
    excl = [_Node(e.symbol, True) for e in tg.exclude if _level_of(e.symbol) <= lv]
    tcodes = list(best)
    scores = np.array([best[c] for c in tcodes], dtype=float)
    correct = np.zeros(len(tcodes), dtype=bool)
    best_cover = np.full(len(gold_nodes), -np.inf)
    covered_any = np.zeros(len(gold_nodes), dtype=bool)
    for i, c in enumerate(tcodes):
        excluded = any(_within(c, e, hierarchy) for e in excl)
        cnode = _Node(c, True)
        for j, g in enumerate(gold_nodes):
            inside = _within(c, g, hierarchy) and not excluded
            if inside:
                correct[i] = True
            if inside or _within(g.symbol, cnode, hierarchy):
                covered_any[j] = True
                best_cover[j] = max(best_cover[j], scores[i])
    return _TechEval(tg.tech_id, tcodes, scores, correct, gold_nodes, best_cover, covered_any,
                     len(tg.not_in_scheme))


def _evaluate_all(codes: pd.DataFrame, gold: pd.DataFrame, level: str,
                  hierarchy: Hierarchy | None, scheme_codes: Iterable[str] | None
                  ) -> tuple[list[_TechEval], int, int]:
    if level not in LEVELS:
        raise InputError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    prepared = _prepare_gold(gold, scheme_codes)
    by_tech = {t: g for t, g in codes.groupby("tech_id", sort=False)}
    empty = codes.iloc[0:0]
    evals, n_not_in_scheme, n_skipped = [], 0, 0
    for tg in prepared:
        n_not_in_scheme += len(tg.not_in_scheme)
        if not tg.include:
            n_skipped += 1
            continue
        evals.append(_evaluate(by_tech.get(tg.tech_id, empty), tg, level, hierarchy))
    return evals, n_not_in_scheme, n_skipped


def _f1(p: float | None, r: float | None) -> float | None:
    if p is None or r is None:
        return None
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _ratio(a: float, b: float) -> float | None:
    return None if b == 0 else float(a) / float(b)


# --------------------------------------------------------------------------- public metrics
def level_metrics(
    dictionary: pd.DataFrame | str | Path,
    gold: pd.DataFrame | str | Path,
    level: str,
    hierarchy: Hierarchy | None = None,
    scheme_codes: Iterable[str] | None = None,
) -> dict:
    """Precision, recall and F1 of the dictionary's accepted codes at ``level`` (see module).

    Returns ``precision``, ``recall``, ``f1`` (None when undefined: no code / no gold),
    ``n_codes`` (sum |P|), ``n_correct``, ``n_gold`` (sum |G|), ``n_gold_covered``,
    ``n_technologies`` (evaluated), ``n_technologies_without_gold_in_scheme``,
    ``n_gold_codes_not_in_scheme``.
    """
    codes = as_codes(dictionary, accepted_only=True)
    evals, n_out, n_skipped = _evaluate_all(codes, as_gold(gold), level, hierarchy, scheme_codes)
    n_codes = sum(len(e.codes) for e in evals)
    n_correct = int(sum(int(e.correct.sum()) for e in evals))
    n_gold = sum(len(e.gold) for e in evals)
    n_cov = int(sum(int(e.covered.sum()) for e in evals))
    p, r = _ratio(n_correct, n_codes), _ratio(n_cov, n_gold)
    return {
        "precision": p,
        "recall": r,
        "f1": _f1(p, r),
        "n_codes": n_codes,
        "n_correct": n_correct,
        "n_gold": n_gold,
        "n_gold_covered": n_cov,
        "n_technologies": len(evals),
        "n_technologies_without_gold_in_scheme": n_skipped,
        "n_gold_codes_not_in_scheme": n_out,
    }


def per_technology(
    dictionary: pd.DataFrame | str | Path,
    gold: pd.DataFrame | str | Path,
    level: str,
    hierarchy: Hierarchy | None = None,
    scheme_codes: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per evaluated technology at ``level``: ``tech_id, n_codes, n_correct, n_gold,
    n_gold_covered, n_gold_codes_not_in_scheme, precision, recall, missed`` (missed = the gold
    patterns not covered, joined by ``; ``)."""
    codes = as_codes(dictionary, accepted_only=True)
    evals, _, _ = _evaluate_all(codes, as_gold(gold), level, hierarchy, scheme_codes)
    rows = []
    for e in evals:
        cov = e.covered
        rows.append({
            "tech_id": e.tech_id,
            "n_codes": len(e.codes),
            "n_correct": int(e.correct.sum()),
            "n_gold": len(e.gold),
            "n_gold_covered": int(cov.sum()),
            "n_gold_codes_not_in_scheme": e.not_in_scheme,
            "precision": _ratio(int(e.correct.sum()), len(e.codes)),
            "recall": _ratio(int(cov.sum()), len(e.gold)),
            "missed": "; ".join(
                g.symbol + ("*" if g.subtree else "") for g, c in zip(e.gold, cov, strict=True)
                if not c
            ),
        })
    return pd.DataFrame(rows, columns=["tech_id", "n_codes", "n_correct", "n_gold",
                                       "n_gold_covered", "n_gold_codes_not_in_scheme",
                                       "precision", "recall", "missed"])


def pr_curve(
    candidates: pd.DataFrame | str | Path,
    gold: pd.DataFrame | str | Path,
    level: str = "subclass",
    hierarchy: Hierarchy | None = None,
    scheme_codes: Iterable[str] | None = None,
    n_thresholds: int = 101,
) -> pd.DataFrame:
    """Precision and recall at ``level`` if only the codes with ``score >= t`` were accepted.

    Every candidate row counts (its ``decision`` is ignored): at threshold t the accepted
    set is ``{c : score(c) >= t}``; the numbers at t are exactly :func:`level_metrics` of
    that set. Thresholds are the distinct scores, thinned to at most ``n_thresholds``
    quantiles. Columns: ``threshold, n_codes, precision, recall, f1``, by rising threshold.
    """
    codes = as_codes(candidates, accepted_only=False)
    codes = codes[codes["score"].notna()]
    evals, _, _ = _evaluate_all(codes, as_gold(gold), level, hierarchy, scheme_codes)
    if not evals or codes.empty:
        return pd.DataFrame(columns=["threshold", "n_codes", "precision", "recall", "f1"])
    scores = np.concatenate([e.scores for e in evals])
    correct = np.concatenate([e.correct for e in evals])
    covers = np.concatenate([e.best_cover for e in evals])
    n_gold = len(covers)
    thresholds = np.unique(scores[np.isfinite(scores)])
    if len(thresholds) > n_thresholds:
        thresholds = np.unique(np.quantile(thresholds, np.linspace(0, 1, n_thresholds),
                                           method="inverted_cdf"))
    s_sorted = np.sort(scores)
    c_sorted = np.sort(scores[correct])
    g_sorted = np.sort(covers)
    n_codes = len(scores) - np.searchsorted(s_sorted, thresholds, side="left")
    n_correct = len(c_sorted) - np.searchsorted(c_sorted, thresholds, side="left")
    n_cov = n_gold - np.searchsorted(g_sorted, thresholds, side="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(n_codes > 0, n_correct / np.maximum(n_codes, 1), np.nan)
        rec = n_cov / n_gold if n_gold else np.full(len(thresholds), np.nan)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    return pd.DataFrame({"threshold": thresholds, "n_codes": n_codes, "precision": prec,
                         "recall": rec, "f1": f1})


def top_candidates(candidates: pd.DataFrame, k: int) -> pd.DataFrame:
    """The ``k`` best candidate rows per technology (smallest rank, then highest score)."""
    df = candidates.assign(
        _rank=candidates["rank"].fillna(np.inf), _score=candidates["score"].fillna(-np.inf)
    ).sort_values(["tech_id", "_rank", "_score", "ipc_code"],
                  ascending=[True, True, False, True], kind="mergesort")
    return df.groupby("tech_id", sort=False).head(k).drop(columns=["_rank", "_score"])


def candidate_metrics(
    candidates: pd.DataFrame | str | Path,
    gold: pd.DataFrame | str | Path,
    scheme_codes: Iterable[str] | None = None,
    k: int = 10,
) -> dict:
    """``hit_at_1`` and ``recall_at_10`` (at subclass level; see the module docstring).

    Also returns ``recall_at_10_micro`` (covered / all gold subclasses, pooled),
    ``n_technologies`` and ``n_technologies_without_candidates``. ``k`` changes the cut-off
    of recall@k (the key keeps its name ``recall_at_10`` only for k = 10; otherwise
    ``recall_at_<k>``).
    """
    cands = as_codes(candidates, accepted_only=False)
    g = as_gold(gold)
    top1 = top_candidates(cands, 1)
    topk = top_candidates(cands, k)
    ev1, _, _ = _evaluate_all(top1, g, "subclass", None, scheme_codes)
    evk, _, _ = _evaluate_all(topk, g, "subclass", None, scheme_codes)
    n = len(ev1)
    hits = [bool(e.correct.any()) for e in ev1]
    shares = [float(e.covered.mean()) for e in evk]
    n_cov = sum(int(e.covered.sum()) for e in evk)
    n_gold = sum(len(e.gold) for e in evk)
    with_cands = set(cands["tech_id"])
    key = "recall_at_10" if k == 10 else f"recall_at_{k}"
    return {
        "hit_at_1": _ratio(sum(hits), n),
        key: None if n == 0 else float(np.mean(shares)),
        f"{key}_micro": _ratio(n_cov, n_gold),
        "n_technologies": n,
        "n_technologies_without_candidates": sum(e.tech_id not in with_cands for e in ev1),
    }


def audit_metrics(
    dictionary: pd.DataFrame | str | Path,
    gold: pd.DataFrame | str | Path,
    candidates: pd.DataFrame | str | Path | None = None,
    hierarchy: Hierarchy | None = None,
    scheme_codes: Iterable[str] | None = None,
) -> dict:
    """The INTERFACES metrics record: ``levels`` -> level -> precision/recall/f1 (+ counts),
    ``hit_at_1``, ``recall_at_10`` (None without candidates), ``n_technologies``,
    ``n_gold_codes_not_in_scheme``."""
    g = as_gold(gold)
    d = as_codes(dictionary, accepted_only=True)
    codes = None if scheme_codes is None else set(scheme_codes)
    levels = {lv: level_metrics(d, g, lv, hierarchy, codes) for lv in LEVELS}
    first = levels["subclass"]
    out: dict = {
        "levels": levels,
        "hit_at_1": None,
        "recall_at_10": None,
        "n_technologies": first["n_technologies"],
        "n_gold_codes_not_in_scheme": first["n_gold_codes_not_in_scheme"],
        "n_technologies_without_gold_in_scheme": first["n_technologies_without_gold_in_scheme"],
    }
    if candidates is not None:
        cm = candidate_metrics(candidates, g, codes)
        out.update({"hit_at_1": cm["hit_at_1"], "recall_at_10": cm["recall_at_10"],
                    "recall_at_10_micro": cm["recall_at_10_micro"]})
    return out


def summarize_levels(metrics: Mapping) -> pd.DataFrame:
    """The ``levels`` part of a metrics record as a table (one row per level)."""
    rows = [{"level": lv, **{k: metrics["levels"][lv].get(k) for k in (
        "precision", "recall", "f1", "n_codes", "n_correct", "n_gold", "n_gold_covered")}}
        for lv in LEVELS]
    return pd.DataFrame(rows)


def label_codes(
    codes: pd.DataFrame | str | Path,
    gold: pd.DataFrame | str | Path,
    level: str = "subclass",
    hierarchy: Hierarchy | None = None,
    scheme_codes: Iterable[str] | None = None,
) -> pd.Series:
    """Per row of a dictionary or candidates table: is its code correct at ``level``?

    True/False by the definition above (the row's code truncated to ``level``), ``pd.NA``
    where the technology is not evaluated (absent from the gold, or no gold pattern in the
    scheme). Index = the table's index.
    """
    df = as_codes(codes, accepted_only=False)
    evals, _, _ = _evaluate_all(df, as_gold(gold), level, hierarchy, scheme_codes)
    verdict = {(e.tech_id, c): bool(ok) for e in evals
               for c, ok in zip(e.codes, e.correct, strict=True)}
    out = [verdict.get((t, _truncate(c, level)), pd.NA)
           for t, c in zip(df["tech_id"], df["ipc_code"], strict=True)]
    return pd.Series(out, index=df.index, dtype="boolean")
