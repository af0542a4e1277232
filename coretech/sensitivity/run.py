"""``coretech sensitivity``: the file-level entry point (inputs, outputs, provenance)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError
from coretech.io import read_table, write_table
from coretech.sensitivity.engine import SensitivityRun, default_targets, influence
from coretech.sensitivity.profiles import build_profiles, cell_counts, check_against_breakthrough
from coretech.sensitivity.summary import reading, write_plot
from coretech.sensitivity.variants import DEFAULT_TOPK, KINDS, combine, generate

RESULT_COLUMNS = ["target", "variant", "kind", "parameter", "n_codes", "coef", "se", "ci_lo",
                  "ci_hi", "nobs", "n_patents", "note"]


def _meta(table: Path) -> dict[str, Any]:
    """The breakthrough run's record, its output set checked (table, rejects, lag table)."""
    from coretech.provenance import check_output_set

    meta = table.with_name(table.stem + ".meta.json")
    if not meta.is_file():
        raise InputError("the breakthrough table has no .meta.json beside it (run `coretech "
                         "breakthrough` first: the variants reuse its options and lag shares)",
                         file=table)
    return check_output_set(table)


def _lag_shares(rec: dict[str, Any], base_dir: Path, table_path: Path) -> dict[str, pd.DataFrame]:
    """T_s of the breakthrough run: its lag table (full precision) or, without one, the
    record's shares (rounded to 1e-12; the base check then allows that rounding)."""
    lag = _resolve(rec.get("outputs", {}).get("lag_table"), base_dir, table_path.parent)
    if lag is not None and lag.is_file():
        t = read_table(lag, as_text=False, required=("s", "share"))
        return {"all": pd.DataFrame({"s": t["s"].astype(int), "share": t["share"].astype(float)})}
    shares = rec.get("lag_shares", {}).get("all")
    if not shares:
        raise InputError("the breakthrough run wrote no lag table and its record has no lag "
                         "shares (run it with --lag-table)", file=table_path)
    return {"all": pd.DataFrame({"s": np.arange(len(shares)), "share": np.asarray(shares, float)})}


def _resolve(p: str | None, base: Path, beside: Path | None = None) -> Path | None:
    """A path from a provenance record: absolute as is; relative against ``base`` (the output
    folder the record's paths are relative to), else the file of that name ``beside``."""
    if p is None:
        return None
    q = Path(p)
    if q.is_absolute():
        return q
    if (base / q).exists() or beside is None:
        return base / q
    return beside / q.name


def run_sensitivity(
    *,
    patents: str | Path,
    dictionary: str | Path,
    breakthrough: str | Path,
    panel: str | Path,
    out: str | Path,
    candidates: str | Path | None = None,
    ipc: str | Path | None = None,
    base: str | Path | None = None,
    measured: str | None = None,
    targets: Sequence[str] = ("mechanism_a", "mechanism_b"),
    kinds: Sequence[str] = KINDS,
    thresholds: Sequence[float] | None = None,
    n_thresholds: int = 10,
    topk: Sequence[int] = DEFAULT_TOPK,
    n_bootstrap: int = 100,
    seed: int = 0,
    level: float = 0.95,
    min_lag_share: float = 0.0,
    controls: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Dictionary variants -> ``sensitivity.csv``, ``influence.csv``, a plot, provenance.

    ``breakthrough`` is the table written by ``coretech breakthrough`` on the same
    ``patents`` and ``dictionary`` (its options, rejected rows and lag shares are reused, and
    the dictionary variant must reproduce its counts exactly); ``panel`` the models' panel
    with the measured Sicoughs in column ``measured`` (default ``Sicoughs_measured`` when the
    panel has it, else ``Sicoughs``); relative paths inside the breakthrough record are
    resolved against ``base`` (default: the folder above the table's).
    """
    from coretech.indicators.breakthrough import load_hierarchy
    from coretech.ipc import parse
    from coretech.provenance import provenance, write_provenance

    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    out = Path(out)
    table_path = Path(breakthrough)
    rec = _meta(table_path)
    opts = rec.get("options", {})
    base_dir = Path(base) if base is not None else table_path.parent.parent
    if opts.get("lag_by") or opts.get("ipc_counted") == "main":
        raise InputError("sensitivity supports the pooled lag distribution and 'any IPC code "
                         "counts' (the defaults); this breakthrough run used other options",
                         file=table_path)
    shares = _lag_shares(rec, base_dir, table_path)
    table = read_table(table_path, as_text=False, required=("city", "year", "k_raw"))
    table["city"] = table["city"].astype(str)

    dic = read_table(dictionary, required=("tech_id", "ipc_code"))
    cand = read_table(candidates, required=("tech_id", "ipc_code")) if candidates else None
    cands = combine(dic, cand, files=(dictionary, candidates))
    codes = [str(parse(c)) for c in cands.codes]
    cands.frame["ipc_code"] = codes
    scheme = _resolve(opts.get("scheme") if ipc is None else str(ipc), base_dir)
    needs = any(parse(c).kind == "subgroup" for c in codes)
    hierarchy = load_hierarchy(scheme if scheme is not None and scheme.exists() else None) if needs else None

    rej_path = _resolve(rec.get("outputs", {}).get("rejects"), base_dir, table_path.parent)
    rejected = []
    if rej_path is not None and rej_path.is_file():
        rj = read_table(rej_path, as_text=False)
        if len(rj) and "row" in rj.columns:
            rejected = pd.to_numeric(rj["row"], errors="coerce").dropna().astype(int).tolist()
    say(f"matching {patents} to {len(codes)} candidate codes")
    prof = build_profiles(patents, codes, end_year=int(opts.get("end_year", 2022)),
                          rejected_rows=rejected, hierarchy=hierarchy,
                          boundaries=int(opts.get("boundaries", 2022)),
                          encoding=opts.get("encoding"), columns=opts.get("columns") or None)
    check_against_breakthrough(cell_counts(prof, cands.base), table, file=patents)

    pdf = read_table(panel, as_text=False, required=("city", "year"))
    pdf["city"] = pdf["city"].astype(str)
    pdf["year"] = pd.to_numeric(pdf["year"]).astype(int)
    if measured is None:
        measured = "Sicoughs_measured" if "Sicoughs_measured" in pdf.columns else "Sicoughs"
    tg = default_targets(pdf, measured, controls=controls, names=targets)
    run = SensitivityRun(profiles=prof, candidates=cands, table=table, shares=shares, panel=pdf, measured=measured,
                         targets=tg, end_year=int(opts.get("end_year", 2022)),
                         adjust_from=opts.get("adjust_from"), min_lag_share=min_lag_share,
                         level=level)
    variants = list(generate(cands, kinds=kinds, thresholds=thresholds, n_thresholds=n_thresholds,
                             topk=topk, n_bootstrap=n_bootstrap, seed=seed))
    run.check_base(variants[0], file=table_path)
    say(f"estimating {len(variants)} variants x {len(tg)} targets")
    rows = [r for v in variants for r in run.estimate(v)]
    res = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    f = cands.frame
    names = _tech_names(dictionary, dic)
    ncodes = f[f["in_dictionary"]].groupby("tech_id").size().to_dict()
    inf = influence(res, names, ncodes)
    out.mkdir(parents=True, exist_ok=True)
    res_path = write_table(res, out / "sensitivity.csv")
    inf_path = write_table(inf, out / "influence.csv")
    plots = [write_plot(res, out / f"sensitivity_{t.name}.png", t.name).name for t in tg]
    paragraphs = {t.name: reading(res, inf, t.name, level=level) for t in tg}
    record = provenance(
        stage="sensitivity",
        inputs={"patents": patents, "dictionary": dictionary, "candidates": candidates,
                "breakthrough": table_path, "panel": panel},
        options={"measured": measured, "targets": [t.__dict__ for t in tg], "kinds": list(kinds),
                 "thresholds": list(thresholds) if thresholds else None,
                 "n_thresholds": n_thresholds, "topk": [int(k) for k in topk],
                 "n_bootstrap": n_bootstrap, "seed": seed, "level": level,
                 "min_lag_share": min_lag_share,
                 "lag_shares": "held fixed at the breakthrough run's (pooled)"},
        outputs={"results": res_path.name, "influence": inf_path.name, "plots": plots},
        counts={"candidates": len(f), "dictionary_codes": int(cands.base.sum()),
                "variants": len(variants), "profiles": int(prof.incidence.shape[0]),
                "patents_with_a_candidate": prof.n_patents},
        reading=paragraphs,
    )
    write_provenance(res_path, record)
    say(f"done in {time.perf_counter() - t0:.1f} s")
    return record


def _tech_names(path: str | Path, dic: pd.DataFrame) -> dict[str, str]:
    """Technology names from the dictionary's meta (its catalogue) when available."""
    meta = Path(path).with_name(Path(path).stem + ".meta.json")
    names: dict[str, str] = {}
    try:
        m = json.loads(meta.read_text(encoding="utf-8"))
        cat = (m.get("inputs", {}).get("catalogue") or {}).get("path")
        if cat:
            p = Path(cat)
            for q in (p, Path(path).parent / p, Path(path).parent.parent / p):
                if q.is_file():
                    c = read_table(q, required=("tech_id",))
                    col = "name_zh" if "name_zh" in c.columns else ("name_en" if "name_en" in c.columns else None)
                    if col:
                        names = dict(zip(c["tech_id"].astype(str), c[col].fillna("").astype(str), strict=True))
                    break
    except (OSError, ValueError, InputError):
        names = {}
    return names
