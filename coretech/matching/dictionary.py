"""From ranked candidates to the dictionary: threshold, roll-up, cap, and human overrides.

Decision rule, per technology, on its re-ranked candidates (score = the calibrated score of
scoring.py, rank 1 = best):

1. accept every candidate with ``score >= threshold``; if fewer than ``min_codes`` pass, accept
   the ``min_codes`` best anyway (``min_codes=0``: a technology may get no code);
2. roll-up (``rollup="main_group"`` or ``"subclass"``; ``"none"`` turns it off): when the
   accepted codes under a main group M number at least ``rollup_min`` and cover at least
   ``rollup_share`` of M's entries in the scheme, they are replaced by M; with
   ``"subclass"`` the same is then done for a subclass S with the share of S's main groups
   that hold an accepted code. The rolled-up row takes the best score and rank of its
   members, ``method`` says ``rollup(k/n)``;
3. cap: at most ``max_per_subclass`` codes per subclass (0: no limit; with
   ``cap_best_subclass=False`` the subclass of the best candidate is exempt; ``"auto"``, the
   default, caps it for a technology matched in Chinese and exempts it for one matched only
   in English, see :meth:`DecisionRule.for_languages`), then the ``max_codes`` best (by
   score, then rank).

Overrides (``--overrides``, a reviewed dictionary with ``decision`` accepted / rejected /
added, as ``coretech review apply`` writes it): a rejected (technology, code) never enters
the dictionary; an accepted or added one always does, marked with its decision.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from coretech.errors import InputError, data_row
from coretech.io import read_table
from coretech.ipc import kind as ipc_kind
from coretech.ipc import sort_key, try_normalize
from coretech.matching.decisions import normalize_decision
from coretech.matching.sorting import lexsort, position_in_group

OUTPUT_COLUMNS = ["tech_id", "ipc_code", "kind", "score", "rank", "method", "evidence", "decision"]
#: the candidates file adds ``needs_review`` (True: the technology has no accepted code, or
#: none at the threshold: weak or no evidence, a reviewer should look)
CANDIDATE_COLUMNS = [*OUTPUT_COLUMNS, "needs_review"]
DECISIONS = ("auto", "accepted", "rejected", "added")
ROLLUPS = ("none", "main_group", "subclass")


@dataclass(frozen=True)
class DecisionRule:
    """Options of the decision rule (module docstring)."""

    threshold: float = 0.5
    max_codes: int = 20
    min_codes: int = 1
    rollup: str = "main_group"
    rollup_share: float = 0.5
    rollup_min: int = 2
    max_per_subclass: int = 2
    cap_best_subclass: bool | str = "auto"
    min_coverage: float = 0.0

    def validate(self) -> DecisionRule:
        if not (isinstance(self.threshold, (int, float)) and 0.0 <= self.threshold <= 1.0):
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold!r}")
        for name, lo in (("max_codes", 1), ("min_codes", 0), ("rollup_min", 1),
                         ("max_per_subclass", 0)):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= lo):
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
        if self.min_codes > self.max_codes:
            raise ValueError(f"min_codes ({self.min_codes}) exceeds max_codes ({self.max_codes})")
        if not (isinstance(self.min_coverage, (int, float)) and 0.0 <= self.min_coverage <= 1.0):
            raise ValueError(f"min_coverage must be in [0, 1], got {self.min_coverage!r}")
        if self.cap_best_subclass not in (True, False, "auto"):
            raise ValueError("cap_best_subclass must be True, False or 'auto', got "
                             f"{self.cap_best_subclass!r}")
        if self.rollup not in ROLLUPS:
            raise ValueError(f"rollup must be one of {', '.join(ROLLUPS)}, got {self.rollup!r}")
        if not (isinstance(self.rollup_share, (int, float)) and 0.0 < self.rollup_share <= 1.0):
            raise ValueError(f"rollup_share must be in (0, 1], got {self.rollup_share!r}")
        return self

    def for_languages(self, langs: list[str] | tuple[str, ...]) -> DecisionRule:
        """The rule for a technology matched in ``langs``: ``cap_best_subclass="auto"`` becomes
        True when Chinese is among them, False when it is matched in English only.

        Measured default (bench/matching.py, docs/matching.md): the Chinese gold catalogue names
        specific technologies whose expert codes spread over several subclasses (capping the
        best subclass wins subclass recall), the English one names broad fields whose codes
        concentrate in one subclass (exempting it wins precision).
        """
        if self.cap_best_subclass != "auto":
            return self
        return replace(self, cap_best_subclass="zh" in langs)


def main_group_of(code: str) -> str:
    """Main group of a canonical symbol below subclass level (``H01L29/739`` -> ``H01L29/00``),
    ``""`` for a subclass or class."""
    cut = code.find("/")
    return code[:cut] + "/00" if cut > 0 else ""


class SchemeCounts:

    """Sizes the roll-up needs: entries per main group, main groups per subclass."""

    def __init__(self, codes: list[str] | tuple[str, ...]) -> None:
        self.codes = set(codes)
        self.per_main: dict[str, int] = defaultdict(int)
        self.mains_per_subclass: dict[str, int] = defaultdict(int)
        for c in codes:  # canonical symbols: string slicing is exact and fast
            if "/" in c:
                self.per_main[main_group_of(c)] += 1
                if c.endswith("/00"):
                    self.mains_per_subclass[c[:4]] += 1


def decide(tech: list[dict], rule: DecisionRule, counts: SchemeCounts, *,
           copy: bool = True, presorted: bool = False) -> list[dict]:
    """Apply the decision rule to one technology's candidates (dicts with OUTPUT_COLUMNS keys);
    returns the accepted rows (copies, unless ``copy=False``: then the given dicts are
    updated), ``decision='auto'``. Reads ``score``, not list order (``presorted=True``: the
    caller gives the rows by score, high first, then rank, and they are not sorted again)."""
    if not tech:
        return []
    ranked = tech if presorted else sorted(tech, key=lambda r: (-r["score"], r["rank"]))
    if rule.min_coverage > 0:  # rows without a coverage figure (tests, reviews) pass
        ranked = [r for r in ranked if r.get("_cov", 1.0) >= rule.min_coverage]
        if not ranked:
            return []
    dup = dict if copy else (lambda r: r)
    acc = [dup(r) for r in ranked if r["score"] >= rule.threshold]
    if len(acc) < rule.min_codes:
        acc = [dup(r) for r in ranked[: rule.min_codes]]
    ordered = acc
    if rule.rollup != "none":
        acc = _rollup(acc, "main_group", rule, counts)
        if rule.rollup == "subclass":
            acc = _rollup(acc, "subclass", rule, counts)
    if acc is not ordered or not presorted:  # (a roll-up adds rows at the end)
        acc.sort(key=lambda r: (-r["score"], r["rank"]))
    if rule.max_per_subclass:
        per: dict[str, int] = defaultdict(int)
        kept = []
        best_sc = ranked[0]["ipc_code"][:4]
        for r in acc:
            sc = r["ipc_code"][:4]  # subclass of a canonical symbol
            exempt = sc == best_sc and rule.cap_best_subclass is False  # "auto" unresolved: cap
            if per[sc] < rule.max_per_subclass or exempt:
                kept.append(r)
            per[sc] += 1
        acc = kept
    acc = acc[: rule.max_codes]
    for r in acc:
        r["decision"] = "auto"
    return acc


def _rollup(acc: list[dict], level: str, rule: DecisionRule, counts: SchemeCounts) -> list[dict]:
    groups: dict[str, list[int]] = defaultdict(list)
    if level == "main_group":  # canonical symbols: slicing gives the ancestor exactly
        for i, r in enumerate(acc):
            mg = main_group_of(r["ipc_code"])
            if mg:
                groups[mg].append(i)
        # a main group's hits are its members: fewer than rollup_min cannot roll up
        todo = sorted(kv for kv in groups.items() if len(kv[1]) >= rule.rollup_min)
    else:
        for i, r in enumerate(acc):
            c = r["ipc_code"]
            if len(c) >= 4:
                groups[c[:4]].append(i)
        todo = sorted(groups.items())
    drop: set[int] = set()
    new_rows = []
    for node, idx in todo:
        if node not in counts.codes:
            continue
        members = [acc[i] for i in idx]
        if level == "main_group":
            n_all = counts.per_main.get(node, 0)
            n_hit = len(members)
        else:
            n_all = counts.mains_per_subclass.get(node, 0)
            n_hit = len({m["ipc_code"].split("/", 1)[0] for m in members
                         if m["ipc_code"] != node})
        if n_all == 0 or n_hit < rule.rollup_min or n_hit / n_all < rule.rollup_share:
            continue
        if len(members) == 1 and members[0]["ipc_code"] == node:
            continue
        best = min(members, key=lambda m: (-m["score"], m["rank"]))
        row = dict(best)
        row.update(ipc_code=node, kind=level, rank=min(m["rank"] for m in members),
                   _best=best.get("_best", best["ipc_code"]),
                   _rolled=(f"rollup({n_hit}/{n_all})+",
                            f"rolled up from {len(members)} codes; best {best['ipc_code']}: "))
        if best.get("evidence") is not None:  # else the caller explains the best member later
            row["method"] = row["_rolled"][0] + best["method"]
            row["evidence"] = row["_rolled"][1] + best["evidence"]
        drop.update(idx)
        new_rows.append(row)
    if not new_rows:
        return acc
    return [r for i, r in enumerate(acc) if i not in drop] + new_rows


@dataclass
class Accepted:
    """Rows :func:`decide_sorted` accepts, as parallel arrays in (technology, rank) order.

    ``src`` is the input position of the row, or of the best member for a rolled-up row;
    ``rolled`` holds ``(method prefix, evidence prefix)`` of a rolled-up row, else None.
    """

    tech: np.ndarray
    src: np.ndarray
    code: list[str]
    score: np.ndarray
    rank: np.ndarray
    rolled: list[tuple[str, str] | None]


def decide_sorted(tech: np.ndarray, code: list[str], score: np.ndarray, rank: np.ndarray,
                  best_subclass: list[str], exempt_best: np.ndarray, rule: DecisionRule,
                  counts: SchemeCounts, main_group: list[str] | None = None) -> Accepted:
    """:func:`decide` for many technologies at once, on arrays (the same rule, the same rows).

    Input: the candidates that pass ``rule.threshold`` of technologies that have at least
    ``rule.min_codes`` of them, ordered by technology, then score (high first), then rank;
    ``best_subclass[t]`` is the subclass of technology t's best candidate (passing or not) and
    ``exempt_best[t]`` whether its rule exempts that subclass from ``max_per_subclass``
    (``cap_best_subclass`` resolved to False); ``main_group`` (optional) the main group of
    each code ("" for a subclass), else derived from ``code``. Roll-up ``"none"`` or
    ``"main_group"`` only (``"subclass"``: use :func:`decide`).
    """
    if rule.rollup == "subclass":
        raise ValueError("decide_sorted rolls up to main groups only; use decide()")
    n = len(tech)
    tech = np.asarray(tech, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    rank = np.asarray(rank, dtype=np.int64)
    src = np.arange(n, dtype=np.int64)
    codes = list(code)
    rolled: list[tuple[str, str] | None] = [None] * n
    if rule.rollup == "main_group" and n:
        mg = main_group if main_group is not None else [main_group_of(c) for c in codes]
        mg_id, mg_names = pd.factorize(np.array(mg, dtype=object))
        gid, _ = pd.factorize(tech * (len(mg_names) + 1) + mg_id)
        n_hit = np.bincount(gid)
        first = np.full(len(n_hit), n, dtype=np.int64)
        np.minimum.at(first, gid, src)  # the best member: input order is by score
        min_rank = np.full(len(n_hit), np.iinfo(np.int64).max)
        np.minimum.at(min_rank, gid, rank)
        qualify = np.zeros(len(n_hit), dtype=bool)
        totals = {}
        for g in np.flatnonzero(n_hit >= rule.rollup_min).tolist():
            node = mg[first[g]]
            if not node or node not in counts.codes:
                continue
            n_all = counts.per_main.get(node, 0)
            if n_all == 0 or n_hit[g] / n_all < rule.rollup_share:
                continue
            if n_hit[g] == 1 and codes[first[g]] == node:
                continue
            qualify[g] = True
            totals[g] = n_all
        if qualify.any():
            keep = ~qualify[gid]
            groups = np.flatnonzero(qualify)
            b = first[groups]
            new_rolled = [(f"rollup({n_hit[g]}/{totals[g]})+",
                           f"rolled up from {n_hit[g]} codes; best {codes[first[g]]}: ")
                          for g in groups.tolist()]
            kept = np.flatnonzero(keep)
            tech = np.concatenate([tech[kept], tech[b]])
            score = np.concatenate([score[kept], score[b]])
            rank = np.concatenate([rank[kept], min_rank[groups]])
            src = np.concatenate([src[kept], b])
            codes = [codes[i] for i in kept.tolist()] + [mg[i] for i in b.tolist()]
            rolled = [None] * len(kept) + new_rolled
            o = lexsort((rank, -score, tech))
            tech, score, rank, src = tech[o], score[o], rank[o], src[o]
            ol = o.tolist()
            codes = [codes[i] for i in ol]
            rolled = [rolled[i] for i in ol]
    m = len(tech)
    keep = np.ones(m, dtype=bool)
    if rule.max_per_subclass and m:
        sub_id, _ = pd.factorize(np.array([c[:4] for c in codes], dtype=object))
        exempt = np.array([exempt_best[t] and c[:4] == best_subclass[t]
                           for t, c in zip(tech.tolist(), codes, strict=True)], dtype=bool)
        keep = (position_in_group(tech * (int(sub_id.max()) + 1) + sub_id)
                < rule.max_per_subclass) | exempt
    kept = np.flatnonzero(keep)
    kept = kept[position_in_group(tech[kept]) < rule.max_codes]
    o = lexsort((rank[kept], tech[kept]))
    sel = kept[o]
    sl = sel.tolist()
    return Accepted(tech[sel], src[sel], [codes[i] for i in sl], score[sel], rank[sel],
                    [rolled[i] for i in sl])


# ---------------------------------------------------------------------------- overrides
def read_overrides(path: str | Path) -> pd.DataFrame:
    """Read a reviewed dictionary: ``tech_id``, ``ipc_code``, ``decision`` (+ optional columns).

    Rows with ``decision`` auto or empty are not human decisions and are skipped. Errors name
    the file, row and column: an unknown decision, a bad IPC code, two different decisions on
    the same (technology, code).
    """
    df = read_table(path, required=("tech_id", "ipc_code", "decision"))
    rows = []
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for i, rec in enumerate(df.to_dict("records")):
        row = data_row(i)
        try:  # the shared vocabulary (coretech.matching.decisions): reject, 拒绝, accept ...
            dec = normalize_decision(rec.get("decision"))
        except ValueError as exc:
            raise InputError(str(exc), file=path, row=row, column="decision") from None
        if dec in (None, "auto"):
            continue
        tid = str(rec.get("tech_id", "") or "").strip()
        if not tid:
            raise InputError("empty tech_id", file=path, row=row, column="tech_id")
        code = try_normalize(str(rec.get("ipc_code", "") or ""))
        if code is None:
            raise InputError(f"{rec.get('ipc_code')!r} is not an IPC symbol", file=path, row=row,
                             column="ipc_code")
        key = (tid, code)
        if key in seen and seen[key][0] != dec:
            raise InputError(
                f"{tid} {code}: decision {dec!r} contradicts {seen[key][0]!r} on row {seen[key][1]}",
                file=path, row=row, column="decision",
            )
        seen[key] = (dec, row)
        score = pd.to_numeric(pd.Series([rec.get("score", "")]), errors="coerce").iloc[0]
        rows.append({"tech_id": tid, "ipc_code": code, "decision": dec, "score": score,
                     "evidence": str(rec.get("evidence", "") or ""), "row": row})
    out = pd.DataFrame(rows, columns=["tech_id", "ipc_code", "decision", "score", "evidence", "row"])
    out = out.drop_duplicates(["tech_id", "ipc_code"], keep="first").reset_index(drop=True)
    out.attrs["source"] = str(path)
    return out


def apply_overrides(
    dictionary: pd.DataFrame,
    candidates: pd.DataFrame,
    overrides: pd.DataFrame,
    tech_ids: list[str],
    path_title_of: dict[str, str],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Keep human decisions: returns (dictionary, candidates, counts)."""
    src = overrides.attrs.get("source")
    known = set(tech_ids)
    for tid, row in zip(overrides["tech_id"], overrides["row"], strict=True):
        if tid not in known:
            raise InputError(f"tech_id {tid!r} is not in the catalogue", file=src, row=int(row),
                             column="tech_id")
    dec = {(t, c): d for t, c, d in zip(overrides["tech_id"], overrides["ipc_code"],
                                         overrides["decision"], strict=True)}
    rejected = {k for k, d in dec.items() if d == "rejected"}
    keys = list(zip(dictionary["tech_id"], dictionary["ipc_code"], strict=True))
    keep = [k not in rejected for k in keys]
    n_removed = len(keep) - sum(keep)
    out = dictionary[keep].copy()
    present = set(zip(out["tech_id"], out["ipc_code"], strict=True))
    out["decision"] = [dec.get(k, "auto") if dec.get(k) in ("accepted", "added") else "auto"
                       for k in zip(out["tech_id"], out["ipc_code"], strict=True)]
    cand_by_key = {
        (t, c): r for t, c, r in zip(candidates["tech_id"], candidates["ipc_code"],
                                     candidates.to_dict("records"), strict=True)
    }
    added = []
    for rec in overrides.to_dict("records"):
        k = (rec["tech_id"], rec["ipc_code"])
        if rec["decision"] not in ("accepted", "added") or k in present:
            continue
        c = cand_by_key.get(k)
        if c is not None:
            r = dict(c)
        else:
            path = path_title_of.get(rec["ipc_code"], "")
            ev = rec["evidence"] or (f"reviewer's decision | path: {path}" if path else "reviewer's decision")
            r = {"tech_id": rec["tech_id"], "ipc_code": rec["ipc_code"],
                 "kind": ipc_kind(rec["ipc_code"]), "score": rec["score"], "rank": pd.NA,
                 "method": "review", "evidence": ev}
        r["decision"] = rec["decision"]
        added.append(r)
    if added:
        out = pd.concat([out, pd.DataFrame(added, columns=OUTPUT_COLUMNS)], ignore_index=True)
    cand = candidates.copy()
    cand["decision"] = [
        dec.get(k) if k in dec else d
        for k, d in zip(zip(cand["tech_id"], cand["ipc_code"], strict=True), cand["decision"], strict=True)
    ]
    counts = {"overrides_rejected_removed": n_removed, "overrides_added": len(added),
              "overrides_rows": len(overrides)}
    return out, cand, counts


def order_rows(df: pd.DataFrame, tech_order: list[str]) -> pd.DataFrame:
    """Catalogue order, then rank (empty last), score (high first), scheme order of the code."""
    pos = {t: i for i, t in enumerate(tech_order)}
    d = df.copy()
    d["_t"] = [pos.get(t, len(pos)) for t in d["tech_id"].tolist()]
    d["_r"] = pd.to_numeric(d["rank"], errors="coerce").fillna(10**9)
    t, r = d["_t"].to_numpy(), d["_r"].to_numpy()
    if len(d) < 2 or bool(np.all((t[1:] > t[:-1]) | ((t[1:] == t[:-1]) & (r[1:] > r[:-1])))):
        # already in (technology, rank) order with distinct ranks: the sort would not move a row
        d = d.drop(columns=["_t", "_r"]).reset_index(drop=True)
        d["rank"] = pd.array(pd.to_numeric(d["rank"], errors="coerce"), dtype="Int64")
        return d[OUTPUT_COLUMNS]
    d["_s"] = -pd.to_numeric(d["score"], errors="coerce").fillna(-1.0)
    d["_k"] = [sort_key(c) for c in d["ipc_code"].tolist()]
    d = d.sort_values(["_t", "_r", "_s", "_k"], kind="mergesort")
    d = d.drop(columns=["_t", "_r", "_s", "_k"]).reset_index(drop=True)
    d["rank"] = pd.array(pd.to_numeric(d["rank"], errors="coerce"), dtype="Int64")
    return d[OUTPUT_COLUMNS]
