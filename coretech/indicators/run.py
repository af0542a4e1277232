"""``coretech indicators``: compute the paper's indicators on a city panel from a spec file.

The spec is a TOML file with one table per step (every table optional; see
``coretech/data/indicators_example.toml`` and docs/indicators.md)::

    [panel]        city / year column names
    [interpolate]  fill gaps within each city (runs first, on input columns)
    [lq]           Cialomy, eq. (4)
    [nycives]      entropy index over the Table 1 spec (+ PCA composite), METHODS.md §4
    [actros]       perpetual inventory + translog distortion, eqs. (6)-(10)
    [irading]      Theil rationalisation + advanced ratio, eq. (11)
    [logs]         ln of control variables with an explicit zero rule
    [winsorize]    clip named columns at percentiles (runs last)

A CSV spec (the format of ``coretech/data/nycives_spec.csv``) is read as
``[nycives] spec = <that file>`` with every other option at its default.

:func:`run_indicators` writes the panel with the new columns and ``<out>.meta.json``
(input hashes, every option with its default filled in, weights, fitted parameters, counts).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError

#: Every table of the spec, its keys and their defaults (None: required or "not given").
DEFAULTS: dict[str, dict[str, Any]] = {
    "panel": {"city": "city", "year": "year", "sheet": 0},
    "interpolate": {"columns": "all", "extrapolate": "none", "flag": True},
    "lq": {"digital": "E_dig", "total": "E_all", "missing": "error", "name": "Cialomy"},
    "nycives": {
        "spec": "builtin", "columns": {}, "include": [], "exclude": [], "pooled": True,
        "shift": 1e-4, "weights": "pooled", "constant": "zero", "name": "Nycives",
        "pca": True, "pca_name": "Nycives_pca", "pca_threshold": 1.0, "pca_weights": "retained",
        "pca_min_components": 1, "subindices": "none", "weights_table": "",
    },
    "actros": {
        "output": "M", "output_deflator": None, "output_deflator_scale": 1.0,
        "labour": "E", "capital": None, "investment": "I", "price_index": "P",
        "delta": 0.096, "g": 0.1384, "base_year": None, "chained": False, "price_scale": 1.0,
        "capital_name": "Actros_C", "wage": "w", "rate": "r", "rate_by_year": None,
        "fe": "none", "transform": "negate", "mp_output": "observed", "units": {},
        "name": "Actros",
    },
    "irading": {
        "output": ["M1", "M2", "M3"], "labour": ["E1", "E2", "E3"],
        "advanced": "tertiary/secondary", "weights": [0.318, 0.682], "theil_sign": -1,
        "standardize": "none", "name": "Irading",
    },
    "logs": {},
    "winsorize": {"columns": [], "lower": 0.01, "upper": 0.99, "by": "pooled",
                  "method": "averaged_inverted_cdf", "suffix": ""},
}
STEPS = ("lq", "nycives", "actros", "irading", "logs")


# --------------------------------------------------------------------------- the spec
def read_spec(spec: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], Path | None]:
    """Parse a TOML / CSV spec (or an already-parsed mapping) and fill in the defaults.

    Returns (resolved spec, spec path or None). Unknown tables or keys are errors naming
    them and what is allowed; relative paths inside are relative to the spec file.
    """
    path: Path | None = None
    if isinstance(spec, Mapping):
        raw = dict(spec)
        base = Path(".")
    else:
        path = Path(spec)
        base = path.parent
        if not path.is_file():
            raise InputError("spec file not found", file=path)
        if path.suffix.lower() in (".csv", ".tsv", ".xlsx"):
            raw = {"nycives": {"spec": path.name}}
        else:
            try:
                raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise InputError(f"not a valid TOML spec: {exc}", file=path) from None
    unknown = [k for k in raw if k not in DEFAULTS]
    if unknown:
        raise InputError(f"unknown table [{unknown[0]}]; the spec knows "
                         f"{', '.join('[' + k + ']' for k in DEFAULTS)}", file=path)
    steps = [k for k in STEPS if k in raw]
    if not steps and "winsorize" not in raw and "interpolate" not in raw:
        raise InputError("the spec names no indicator to compute: give at least one of "
                         f"{', '.join('[' + k + ']' for k in STEPS)}", file=path)
    out: dict[str, Any] = {}
    for table, defaults in DEFAULTS.items():
        if table not in raw and table != "panel":
            continue
        given = raw.get(table, {})
        if not isinstance(given, Mapping):
            raise InputError(f"[{table}] must be a table of options", file=path)
        if table == "logs":
            out[table] = {k: _log_entry(k, v, path) for k, v in given.items()}
            continue
        bad = [k for k in given if k not in defaults]
        if bad:
            raise InputError(f"unknown key {bad[0]!r} in [{table}]; allowed: "
                             f"{', '.join(defaults)}", file=path)
        merged = {**defaults, **given}
        for key, default in defaults.items():
            # a single name where a list is expected: ["N08"], not the characters of "N08"
            if isinstance(default, list) and isinstance(merged[key], str):
                merged[key] = [merged[key]]
            if isinstance(default, list) and not isinstance(merged[key], list):
                raise InputError(f"[{table}] {key} must be a list, got {merged[key]!r}", file=path)
        out[table] = merged
    if "nycives" in out:
        s = out["nycives"]["spec"]
        if s not in (None, "builtin"):
            p = Path(s)
            out["nycives"]["spec"] = str(p if p.is_absolute() else base / p)
    return out, path


def _log_entry(name: str, value: Any, path: Path | None) -> dict[str, Any]:
    if isinstance(value, str):
        value = {"column": value}
    if not isinstance(value, Mapping) or "column" not in value:
        raise InputError(f"[logs] {name} must be {{column = \"...\", zeros = \"error\"}}", file=path)
    bad = [k for k in value if k not in ("column", "zeros")]
    if bad:
        raise InputError(f"unknown key {bad[0]!r} in [logs] {name}; allowed: column, zeros",
                         file=path)
    return {"column": str(value["column"]), "zeros": str(value.get("zeros", "error"))}


# --------------------------------------------------------------------------- panel reading
def read_panel(path: str | Path, city: str = "city", year: str = "year",
               sheet: Any = 0) -> pd.DataFrame:
    """Read a panel file; text files keep text cells (parsed per column with row-level
    errors later); ``year`` must be integer years."""
    from coretech.indicators.transforms import check_unique, to_numeric
    from coretech.io import read_table

    df = read_table(path, sheet=sheet, required=(city, year))
    c = df[city]
    if pd.api.types.is_float_dtype(c) and bool(np.all(np.mod(c.dropna(), 1) == 0)):
        c = c.astype("Int64")  # numeric city codes from .dta / parquet: 110100, not 110100.0
    df[city] = c.astype(str).str.strip()
    num = to_numeric(df, [year], city=city, year=None)
    y = num[year].to_numpy()
    bad = ~np.isfinite(y) | (np.floor(y) != y)
    if bad.any():
        from coretech.indicators.transforms import cell_error

        pos = int(np.flatnonzero(bad)[0])
        raise cell_error(df, pos, year, f"a year must be a whole number, found {df[year].iloc[pos]!r}",
                         city=city, year=None)
    df[year] = y.astype("int64")
    check_unique(df, city, year)
    return df


def _numeric_or_text(df: pd.DataFrame, keep: set[str]) -> pd.DataFrame:
    """Columns that are all numbers (or missing tokens) become numbers; others stay text."""
    from coretech.indicators.transforms import MISSING_TOKENS

    out = df.copy()
    for c in df.columns:
        if c in keep or pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            continue
        text = df[c].astype("string").str.strip()
        miss = text.isna() | text.isin(MISSING_TOKENS)
        num = pd.to_numeric(text.where(~miss), errors="coerce")
        if not (num.isna() & ~miss).any() and not miss.all():
            out[c] = num.astype("float64").to_numpy()
    return out


# --------------------------------------------------------------------------- the run
def compute_indicators(df: pd.DataFrame, spec: Mapping[str, Any]) -> tuple[pd.DataFrame, dict]:
    """Run the steps of a resolved spec on a panel frame. Returns (panel + new columns, record)."""
    from coretech.indicators import transforms as tf

    city, year = spec["panel"]["city"], spec["panel"]["year"]
    record: dict[str, Any] = {"new_columns": [], "counts": {}}
    tf.check_unique(df, city, year)

    if "interpolate" in spec:
        o = spec["interpolate"]
        cols = o["columns"]
        if cols == "all":
            cols = _input_columns(df, spec)
        elif isinstance(cols, str):
            cols = [cols]
        if o["flag"] not in (True, False, "all"):
            raise InputError(f'[interpolate] flag must be true, false or "all", got {o["flag"]!r}')
        df = tf.interpolate_panel(df, list(cols), city=city, year=year,
                                  extrapolate=o["extrapolate"], flag=bool(o["flag"]))
        if o["flag"]:
            # flag columns for the columns with a filled cell (every column with flag = "all")
            keep = [c for c in cols if o["flag"] == "all" or df.attrs["filled"][c] > 0]
            drop = [f"{c}_filled" for c in cols if c not in keep]
            attrs = dict(df.attrs)
            df = df.drop(columns=drop).astype(dict.fromkeys([f"{c}_filled" for c in keep], "int8"))
            df.attrs = attrs
            record["new_columns"] += [f"{c}_filled" for c in keep]
        record["counts"]["interpolated"] = dict(df.attrs["filled"])
        record["counts"]["still_missing_after_interpolation"] = dict(df.attrs["unfilled"])
        # keep only the source in attrs: pandas deep-copies attrs on every operation
        df.attrs = {k: v for k, v in df.attrs.items() if k == "source"}

    new: dict[str, pd.Series] = {}
    if "lq" in spec:
        from coretech.indicators.lq import location_quotient

        o = spec["lq"]
        lq = location_quotient(df, o["digital"], o["total"], year, city=city,
                               missing=o["missing"], name=o["name"])
        new[o["name"]] = lq
        record["lq"] = {"formula": "(E_dig/E_all) / (sum_i E_dig / sum_i E_all), sums by year",
                        "n_missing": int(lq.isna().sum())}
    if "nycives" in spec:
        cols, rec = _nycives(df, spec["nycives"], city, year)
        new.update(cols)
        record["nycives"] = rec
    if "actros" in spec:
        cols, rec = _actros(df, spec["actros"], city, year)
        new.update(cols)
        record["actros"] = rec
    if "irading" in spec:
        from coretech.indicators.structure import structure_upgrading

        o = spec["irading"]
        res = structure_upgrading(df, o["output"], o["labour"], advanced=o["advanced"],
                                  weights=o["weights"], theil_sign=int(o["theil_sign"]),
                                  standardize=o["standardize"], city=city, year=year,
                                  name=o["name"])
        new.update({c: res[c] for c in res.columns})
        record["irading"] = {
            "formula": f"{o['weights'][0]} * AD + {o['weights'][1]} * ({int(o['theil_sign']):+d} TL)",
            "advanced": o["advanced"],
        }
    if spec.get("logs"):
        dropped = {}
        for name, o in spec["logs"].items():
            s = tf.log_column(df, o["column"], zeros=o["zeros"], city=city, year=year)
            new[name] = s.rename(name)
            dropped[name] = int(s.attrs["dropped"])
        record["counts"]["log_zeros_dropped"] = dropped
        record["logs"] = {n: {"column": o["column"], "rule": tf.describe_rule(o["zeros"])}
                          for n, o in spec["logs"].items()}

    clash = [c for c in new if c in df.columns]
    if clash:
        record["replaced_panel_columns"] = clash
    out = df.drop(columns=clash)
    out = pd.concat([out, pd.DataFrame(new, index=df.index)], axis=1)
    record["new_columns"] += list(new)

    if "winsorize" in spec:
        o = spec["winsorize"]
        cols = list(o["columns"])
        tf.require_columns(out, cols)
        out = tf.to_numeric(out, cols, city=city, year=year)
        by = year if o["by"] == "year" else None
        if o["by"] not in ("pooled", "year"):
            raise InputError(f"[winsorize] by must be 'pooled' or 'year', got {o['by']!r}")
        w = tf.winsorize(out[cols + ([year] if by else [])], cols, lower=float(o["lower"]),
                         upper=float(o["upper"]), by=by, method=o["method"])
        for c in cols:
            target = f"{c}{o['suffix']}"
            out[target] = w[c].to_numpy()
            if o["suffix"]:
                record["new_columns"].append(target)
        record["counts"]["winsorized"] = dict(w.attrs["winsorized"])
    return out, record


def _input_columns(df: pd.DataFrame, spec: Mapping[str, Any]) -> list[str]:
    """Every panel column a step of the spec reads (for ``[interpolate] columns = "all"``)."""
    from coretech.indicators.spec import load_spec, map_columns, select

    cols: list[str] = []
    if "lq" in spec:
        cols += [spec["lq"]["digital"], spec["lq"]["total"]]
    if "nycives" in spec:
        o = spec["nycives"]
        s = select(map_columns(load_spec(o["spec"]), o["columns"]), o["include"] or None,
                   o["exclude"] or None)
        cols += list(s["column"])
    if "actros" in spec:
        o = spec["actros"]
        cols += [o["output"], o["labour"], o["wage"]]
        cols += [o["output_deflator"]] if o["output_deflator"] else []
        cols += [o["capital"]] if o["capital"] else [o["investment"], o["price_index"]]
        if isinstance(o["rate"], str) and not o["rate_by_year"]:
            cols.append(o["rate"])
    if "irading" in spec:
        cols += list(spec["irading"]["output"]) + list(spec["irading"]["labour"])
    for o in (spec.get("logs") or {}).values():
        cols.append(o["column"])
    cols = list(dict.fromkeys(cols))
    from coretech.indicators.transforms import require_columns

    require_columns(df, cols)
    return cols


def _nycives(df: pd.DataFrame, o: Mapping[str, Any], city: str, year: str):
    from coretech.indicators.entropy import EntropyIndex
    from coretech.indicators.pca import PCAIndex
    from coretech.indicators.spec import load_spec, map_columns, pillar_weights, select
    from coretech.indicators.transforms import check_finite, to_numeric

    spec = select(map_columns(load_spec(o["spec"]), o["columns"]), o["include"] or None,
                  o["exclude"] or None)
    absent = [(i, n, c) for i, n, c in zip(spec["id"], spec["name_zh"], spec["column"], strict=True)
              if c not in df.columns]
    if absent:
        i, n, c = absent[0]
        raise InputError(
            f"indicator {i} ({n}) reads panel column {c!r}, which the panel lacks "
            f"({len(absent)} indicator(s) missing: {', '.join(a[0] for a in absent)}); map it in "
            "[nycives.columns] or leave it out with [nycives] exclude",
            file=df.attrs.get("source"), column=c)
    cols = list(spec["column"])
    num = to_numeric(df, cols, city=city, year=year)
    check_finite(num, cols, what="the Nycives index", city=city, year=year)
    directions = dict(zip(cols, spec["direction"], strict=True))
    X = num[cols]
    yrs = num[year].to_numpy()
    ent = EntropyIndex(directions, pooled=bool(o["pooled"]), shift=float(o["shift"]),
                       weights=o["weights"], constant=o["constant"], name=o["name"])
    need_year = (not o["pooled"]) or o["weights"] == "by_year"
    out = {o["name"]: ent.fit_transform(X, year=yrs if need_year else None)}
    rec: dict[str, Any] = {"spec": o["spec"], "entropy": ent.provenance()}
    level = {"none": None, "level1": 1, "level2": 2, "level3": 3}.get(o["subindices"], -1)
    if level == -1:
        raise InputError(f"[nycives] subindices must be none, level1, level2 or level3, got "
                         f"{o['subindices']!r}")
    if level:
        contrib = ent.contributions(X, year=yrs if need_year else None)
        en, zh = spec[f"level{level}_en"], spec[f"level{level}_zh"]
        labels = [e or z for e, z in zip(en, zh, strict=True)]
        if any(not lab for lab in labels):
            raise InputError(f"the indicator spec has no level{level} names for subindices",
                             file=spec.attrs.get("source"))
        names = {}
        for lab in dict.fromkeys(labels):
            slug = "".join(ch if ch.isalnum() else "_" for ch in lab).strip("_")
            col = f"{o['name']}_{slug}"
            members = [c for c, g in zip(cols, labels, strict=True) if g == lab]
            out[col] = contrib[members].sum(axis=1).rename(col)
            names[col] = lab
        rec["subindices"] = {"level": level, "columns": names,
                             "note": "sum of w_j x'_ij over the group; they add up to the index"}
    w = ent.weights_
    wid = (w if isinstance(w, pd.Series) else w.mean(axis=0)).copy()
    wid.index = list(spec["id"])
    rec["indicators"] = [
        {"id": i, "name_zh": nz, "name_en": ne, "column": c, "direction": int(d),
         "weight": float(wid[i])}
        for i, nz, ne, c, d in zip(spec["id"], spec["name_zh"], spec["name_en"], spec["column"],
                                   spec["direction"], strict=True)
    ]
    if not isinstance(w, pd.Series):
        rec["indicator_weights_note"] = "weights by year; 'weight' is their mean over years"
    ent_e = ent.entropy_ if isinstance(ent.entropy_, pd.Series) else ent.entropy_.mean(axis=0)
    table = spec[["id", "level1_zh", "level2_zh", "level3_zh", "name_zh", "name_en", "unit",
                  "direction", "column"]].copy()
    table["entropy"] = ent_e.reindex(cols).to_numpy()
    table["weight"] = wid.reindex(list(spec["id"])).to_numpy()
    rec["_weights_frame"] = table
    rec["pillars"] = {}
    for lvl in (1, 2, 3):
        if (spec[f"level{lvl}_zh"] != "").all():
            rec["pillars"][f"level{lvl}"] = {k: float(v) for k, v in
                                            pillar_weights(wid, spec, level=lvl).items()}
    if o["pca"]:
        pca = PCAIndex(directions, threshold=float(o["pca_threshold"]), weights=o["pca_weights"],
                       min_components=int(o["pca_min_components"]), name=o["pca_name"])
        out[o["pca_name"]] = pca.fit_transform(X)
        rec["pca"] = pca.provenance()
    return out, rec


def _actros(df: pd.DataFrame, o: Mapping[str, Any], city: str, year: str):
    from coretech.indicators.distortion import TranslogDistortion, perpetual_inventory

    out: dict[str, pd.Series] = {}
    rec: dict[str, Any] = {}
    work = df
    if o["capital"]:
        capital = o["capital"]
        rec["capital"] = f"panel column {capital}"
    else:
        c = perpetual_inventory(df, o["investment"], o["price_index"], city, year,
                                delta=float(o["delta"]), g=float(o["g"]),
                                base_year=o["base_year"], chained=bool(o["chained"]),
                                price_scale=float(o["price_scale"]), name=o["capital_name"])
        capital = o["capital_name"]
        out[capital] = c
        work = pd.concat([df.drop(columns=[capital], errors="ignore"), c], axis=1)
        rec["capital"] = (f"perpetual inventory of {o['investment']} deflated by "
                          f"{o['price_index']}: C_t = I_t/P_t + (1-{o['delta']}) C_(t-1), "
                          f"C_0 = (I_0/P_0)/({o['g']}+{o['delta']})")
    output = o["output"]
    if o["output_deflator"]:
        from coretech.indicators.transforms import check_finite, check_positive, to_numeric

        cols = [o["output"], o["output_deflator"]]
        num = to_numeric(df, cols, city=city, year=year)
        check_finite(num, cols, what="deflating output", city=city, year=year)
        check_positive(num, [o["output_deflator"]], what="deflating output", city=city,
                       year=year)
        scale = float(o["output_deflator_scale"])
        if not scale > 0:
            raise InputError(f"[actros] output_deflator_scale must be > 0, got {scale!r}")
        output = f"{o['name']}_M_real"
        real = num[o["output"]] / (num[o["output_deflator"]] / scale)
        out[output] = real.rename(output)
        work = pd.concat([work.drop(columns=[output], errors="ignore"), out[output]], axis=1)
        rec["output"] = (f"{o['output']} / ({o['output_deflator']} / {scale:g}) "
                         "(deflator level, base year = 1)")
    else:
        rec["output"] = f"panel column {o['output']} (real output as given)"
    rate = o["rate_by_year"] if o["rate_by_year"] else o["rate"]
    m = TranslogDistortion(output=output, labour=o["labour"], capital=capital,
                           wage=o["wage"], rate=rate, city=city, year=year, fe=o["fe"],
                           transform=o["transform"], mp_output=o["mp_output"],
                           units=o["units"], name=o["name"])
    res = m.fit_transform(work)
    out.update({c: res[c] for c in res.columns})
    rec["model"] = m.provenance()
    rec["n_negative_tau"] = int((res[f"{o['name']}_tau"] < 0).sum())
    return out, rec


def run_indicators(panel: str | Path, *, spec: str | Path | Mapping[str, Any],
                   out: str | Path) -> dict[str, Any]:
    """Compute the indicators a spec names on the panel file ``panel`` and write ``out``
    (format by extension) and ``<out stem>.meta.json``. Returns the provenance record."""
    from coretech.indicators.spec import builtin_spec_path
    from coretech.io import write_table
    from coretech.provenance import provenance, write_provenance

    resolved, spec_path = read_spec(spec)
    p = resolved["panel"]
    df = read_panel(panel, p["city"], p["year"], p["sheet"])
    result, record = compute_indicators(df, resolved)
    result = _numeric_or_text(result, keep={p["city"]})
    extra_outputs = {}
    if "nycives" in record:
        frame = record["nycives"].pop("_weights_frame")
        target = resolved["nycives"]["weights_table"]
        if target:
            wt = Path(target)
            wt = wt if wt.is_absolute() else Path(out).parent / wt
            write_table(frame, wt)
            extra_outputs["nycives_weights"] = str(wt)
    write_table(result, out)
    inputs: dict[str, Any] = {"panel": panel, "spec": spec_path}
    if "nycives" in resolved:
        s = resolved["nycives"]["spec"]
        inputs["nycives_spec"] = builtin_spec_path() if s in (None, "builtin") else s
    counts = {"rows": len(result), **record.pop("counts")}
    rec = provenance(stage="indicators", inputs=inputs, options=resolved, counts=counts,
                     outputs={"table": str(out), "columns": record.pop("new_columns"),
                              **extra_outputs},
                     results=record)
    write_provenance(out, rec)
    return rec
