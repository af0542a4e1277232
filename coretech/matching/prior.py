"""Prior concordances: earlier expert mappings used as evidence for new names (issue 13, class 4).

A prior is a table of names with IPC patterns (official concordances, a previous edition of
the user's own dictionary; format in INTERFACES.md "Prior concordance"). Titles alone cannot
find an expert's paraphrase (水力机械 → F03B "液力机械或液力发动机"); a prior name that
resembles the new name can.

Similarity of a catalogue name q and a prior name n, over the same normalisation and
tokenisation as the matcher (character n-grams ``char_wb`` 2–4 of the normalised text, and the
search-mode word cut), TF-IDF fitted on the prior's names, sublinear tf:

    sim(q, n) = ½ cos_C(q, n) + ½ cos_W(q, n)

A technology takes the ``top`` prior names with sim ≥ ``min_similarity``. Each of their
patterns (exclusions honoured) *supports* the technology's candidates that lie in it,
``prior(t, d) = max sim(q_t, n)`` over those names n with a pattern holding d, and *proposes*
the pattern's own entry (subclass, main group or subgroup) as a candidate when the scheme
evidence did not pool it. ``prior`` is a feature of the calibrated score
(coretech.matching.evidence); ``method`` reads ``prior+…`` and ``evidence`` names the prior's
name, source, similarity and pattern.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError, data_row
from coretech.ipc import IPCSymbolError, Pattern

PRIOR_COLUMNS = ("name", "patterns", "exclude", "source")


def _split(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, (list, tuple)):
        return [str(x).strip() for x in value if str(x).strip()]
    return [x.strip() for x in str(value).replace("；", ";").split(";") if x.strip()]


def _patterns(values: Iterable[str], file: Path, row: int | None, column: str,
              line: int | None = None) -> tuple[str, ...]:
    out = []
    for v in values:
        try:
            out.append(str(Pattern.parse(v)))
        except IPCSymbolError as exc:
            where = f"line {line}: " if line is not None else ""
            raise InputError(f"{where}{exc.message}", file=file, row=row, column=column) from exc
    return tuple(dict.fromkeys(out))


def read_prior(path: str | Path) -> pd.DataFrame:
    """One prior file -> rows ``name, patterns (tuple), exclude (tuple), source``.

    CSV / xlsx / parquet: ``name`` (or ``name_zh`` / ``name_en``), ``pattern`` (one row per
    pattern) or ``patterns`` (``;``-separated), optional ``exclude`` and ``source`` (default:
    the file's stem). JSON Lines: ``name``, ``patterns`` (list), optional ``exclude``. Rows of
    one name are merged. Errors name the file, row (or line) and column.
    """
    from coretech.io import read_jsonl, read_table

    path = Path(path)
    if not path.is_file():
        raise InputError("prior concordance not found", file=path)
    recs: dict[tuple[str, str], dict[str, Any]] = {}

    def add(name: str, pats: tuple[str, ...], exc: tuple[str, ...], source: str) -> None:
        r = recs.setdefault((name, source), {"name": name, "patterns": (), "exclude": (),
                                             "source": source})
        r["patterns"] = tuple(dict.fromkeys((*r["patterns"], *pats)))
        r["exclude"] = tuple(dict.fromkeys((*r["exclude"], *exc)))

    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        for lineno, obj in read_jsonl(path):
            name = str(obj.get("name") or obj.get("name_zh") or obj.get("name_en") or "").strip()
            if not name:
                raise InputError(f"line {lineno}: no 'name'", file=path)
            pats = _patterns(_split(obj.get("patterns", obj.get("pattern"))), path, None,
                             "patterns", lineno)
            if not pats:
                raise InputError(f"line {lineno}: {name!r} has no pattern", file=path)
            add(name, pats, _patterns(_split(obj.get("exclude")), path, None, "exclude", lineno),
                str(obj.get("source") or path.stem))
    else:
        table = read_table(path)
        cols = [str(c) for c in table.columns]
        name_cols = [c for c in ("name", "name_zh", "name_en") if c in cols]
        pcol = "pattern" if "pattern" in cols else "patterns" if "patterns" in cols else None
        if not name_cols or pcol is None:
            raise InputError("a prior concordance needs a name column (name, name_zh or "
                             f"name_en) and pattern or patterns; found {', '.join(cols)}",
                             file=path)
        for i, row in enumerate(table.to_dict("records")):
            r = data_row(i)
            names = [str(row[c]).strip() for c in name_cols
                     if str(row.get(c) or "").strip() not in ("", "nan")]
            if not names:
                raise InputError("no name", file=path, row=r, column=name_cols[0])
            pats = _patterns(_split(row[pcol]), path, r, pcol)
            if not pats:
                raise InputError("no pattern", file=path, row=r, column=pcol)
            exc = _patterns(_split(row.get("exclude")), path, r, "exclude")
            src = str(row.get("source") or "").strip()
            for n in names:
                add(n, pats, exc, src if src and src != "nan" else path.stem)
    if not recs:
        raise InputError("the prior concordance holds no name", file=path)
    return pd.DataFrame(list(recs.values()), columns=list(PRIOR_COLUMNS))


def _key(p: str) -> tuple[str, str]:
    """A pattern's level and symbol: ``'G06F3/00*'`` -> ``('main_group', 'G06F3/00')``."""
    pat = Pattern.parse(p)
    sym = str(pat).rstrip("*")
    if not pat.subtree:
        return ("code", sym)
    return (pat.kind if pat.kind in ("class", "subclass", "main_group") else "subtree", sym)


class Prior:
    """Prior concordances ready to support a match (module docstring for the math)."""

    def __init__(self, table: pd.DataFrame) -> None:
        if table.empty:
            raise InputError("the prior concordances hold no name")
        self.table = table.reset_index(drop=True)
        self.names = self.table["name"].astype(str).tolist()
        self.keys = [[_key(p) for p in pats] for pats in self.table["patterns"]]
        self.excl = [[_key(p) for p in ex] for ex in self.table["exclude"]]
        self.labels: list[str] = []
        self._label_id: dict[tuple, int] = {}
        self._fitted: dict[int, tuple[Any, Any, Any, Any]] = {}

    @classmethod
    def from_files(cls, paths: Iterable[str | Path]) -> Prior:
        return cls(pd.concat([read_prior(p) for p in paths], ignore_index=True))

    def sources(self) -> list[str]:
        return sorted(set(self.table["source"].astype(str)))

    # ------------------------------------------------------------ similarity
    def _spaces(self, tok: Any) -> tuple[Any, Any, Any, Any]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        from coretech.matching.normalize import normalize_text

        hit = self._fitted.get(id(tok))
        if hit is not None:
            return hit
        cv = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                             dtype=np.float32)
        wv = TfidfVectorizer(analyzer="word", tokenizer=str.split, token_pattern=None,
                             lowercase=False, sublinear_tf=True, dtype=np.float32)
        c = cv.fit_transform([normalize_text(n) for n in self.names])
        w = wv.fit_transform([" ".join(tok.cut(n, search=True, keep_stopwords=False)) or "_"
                              for n in self.names])
        self._fitted = {id(tok): (cv, wv, c, w)}
        return self._fitted[id(tok)]

    def similarity(self, names: list[str], tok: Any) -> np.ndarray:
        """``sim(q, n)`` of catalogue names x prior names (dense; both lists are small)."""
        from coretech.matching.normalize import normalize_text

        cv, wv, c, w = self._spaces(tok)
        qc = cv.transform([normalize_text(n) for n in names])
        qw = wv.transform([" ".join(tok.cut(n, search=True)) or "_" for n in names])
        return np.asarray(0.5 * (qc @ c.T).toarray() + 0.5 * (qw @ w.T).toarray())

    def describe(self, label: int) -> str:
        """Evidence text of a label id returned by :meth:`support`."""
        return self.labels[label]

    def _label(self, pi: int, sim: float, pattern: str) -> int:
        key = (pi, round(sim, 3), pattern)
        j = self._label_id.get(key)
        if j is None:
            j = len(self.labels)
            self.labels.append(f"prior '{self.names[pi]}' ({self.table['source'][pi]}, "
                               f"similarity {sim:.2f}): {pattern}")
            self._label_id[key] = j
        return j

    # ------------------------------------------------------------ support
    def support(self, idx: Any, tok: Any, names: list[str], queries: list[Any], pairs: Any, *,
                top: int, min_similarity: float) -> tuple[Any, np.ndarray, np.ndarray]:
        """Augment pooled pairs with prior-proposed entries; per pair, the prior support and
        the evidence label id (-1: none). ``names[i]`` is technology i of ``pairs.tech``."""
        from coretech.matching.candidates import Pairs

        sims = self.similarity(names, tok)
        # per technology: {(level, symbol): (sim, prior index, pattern text)}
        support: list[dict[tuple[str, str], tuple[float, int, str]]] = []
        excluded: list[set[tuple[str, str]]] = []
        for i in range(len(names)):
            row = sims[i]
            best = np.argsort(-row, kind="stable")[:top]
            d: dict[tuple[str, str], tuple[float, int, str]] = {}
            ex: set[tuple[str, str]] = set()
            for pi in best.tolist():
                s = float(row[pi])
                if s < min_similarity:
                    break
                for k, p in zip(self.keys[pi], self.table["patterns"][pi], strict=True):
                    if k not in d or d[k][0] < s:
                        d[k] = (s, pi, p)
                ex.update(self.excl[pi])
            support.append(d)
            excluded.append(ex)
        # proposals: each supported pattern's own entry, when the scheme did not pool it
        row_of = idx.row_of_
        pooled = set(zip(pairs.tech.tolist(), pairs.row.tolist(), strict=True))
        name_q: dict[int, int] = {}
        for qi, q in enumerate(queries):
            if q.source == "name" or q.tech not in name_q:
                name_q.setdefault(q.tech, qi)
        add_t, add_r, add_q = [], [], []
        for t, d in enumerate(support):
            if t not in name_q:
                continue
            for (level, sym) in d:
                r = row_of.get(sym) if level != "class" else None
                if r is not None and (t, r) not in pooled:
                    add_t.append(t)
                    add_r.append(r)
                    add_q.append(name_q[t])
                    pooled.add((t, r))
        if add_t:
            pairs = Pairs(np.r_[pairs.tech, np.asarray(add_t, dtype=np.int64)],
                          np.r_[pairs.row, np.asarray(add_r, dtype=np.int64)],
                          np.r_[pairs.retrieval, np.zeros(len(add_t))],
                          np.r_[pairs.query, np.asarray(add_q, dtype=np.int64)])
        n = len(pairs.row)
        sim_out = np.zeros(n)
        src_out = np.full(n, -1, dtype=np.int64)
        codes, mgs = idx.codes_, idx.main_groups_
        for k, (t, r) in enumerate(zip(pairs.tech.tolist(), pairs.row.tolist(), strict=True)):
            d = support[t]
            if not d:
                continue
            c = codes[r]
            cand = [("code", c), ("main_group", mgs[r]), ("subclass", c[:4]), ("class", c[:3])]
            if excluded[t] and any(x in excluded[t] for x in cand):
                continue
            hits = [d[x] for x in cand if x in d]
            if "/" in c:  # a subgroup pattern holds the codes that start with it (same group)
                hits += [v for (lv, sym), v in d.items() if lv == "subtree" and c.startswith(sym)]
            if hits:
                s, pi, p = max(hits, key=lambda h: (h[0], -h[1]))
                sim_out[k] = s
                src_out[k] = self._label(pi, s, p)
        return pairs, sim_out, src_out
