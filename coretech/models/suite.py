"""The paper's Tables 2-7 from one panel and one ``[models]`` configuration.

``run_suite(df, config)`` estimates everything and returns the tables (``Table`` objects)
with the results behind them; ``run_models(panel, study=, out=)`` reads the panel, runs the
suite and writes every table in every requested format, plus ``estimates.json`` (the numbers
behind the tables) and ``models.meta.json`` (provenance: input hash, options, versions, row
counts).

Table 2: descriptives. Table 3: two-way FE, controls added one at a time (7 columns), with
the classic (and, when it is negative, the sigmamore) and the cluster-robust (Mundlak)
Hausman tests in the notes. Table 4: D instrumented by its first lag, ivreg2 gmm2s with city
and year effects partialled out; N is the true number of city-years with a lag. Table 5:
winsorised sample, the PCA index as the outcome, pilot cities excluded. Table 6: NBS regions
and city tiers, with three tests that the slopes shown are equal: the Chow (fully
interacted) F, the stacked (SUR) Wald F and the wild cluster bootstrap p of the Chow
statistic (``permutations`` draws, ``seed``). Table 7: mechanisms, the indirect effect a*b
with delta-method and bootstrap intervals (``mechanism_rule = "mediation"``), or the paper's
equations as written (``"paper"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coretech.errors import InputError, data_row
from coretech.models.config import ModelsConfig, load_study
from coretech.models.fe import twfe
from coretech.models.hausman import HausmanTests
from coretech.models.heterogeneity import chow_test, stacked_test, subsamples, wild_bootstrap_test
from coretech.models.iv import add_lag, iv_gmm
from coretech.models.mechanism import mechanism
from coretech.models.results import RegressionResult
from coretech.models.simulate import regions_table
from coretech.models.tables import (
    Column,
    Table,
    descriptive_table,
    fmt,
    regression_table,
    relabel,
    stars,
)
from coretech.models.validate import check_unique_panel, numeric_column, require_columns

REGION_ORDER = ("east", "central", "west", "northeast")
REGION_ZH = {"east": "东部", "central": "中部", "west": "西部", "northeast": "东北"}
MEANINGS_ZH = {
    "Nycives": "新质生产力发展", "Cialomy": "数字经济核心产业集聚", "Sicoughs": "科学技术突破",
    "Actros": "生产要素配置", "Irading": "产业结构升级", "Idetion": "国际贸易合作",
    "Eoryity": "环境规制强度", "Mentel": "市场发展水平", "Fialevel": "金融科技水平",
    "Tinevel": "交通运输水平", "Fprises": "高新企业基础",
}
MEANINGS_EN = {
    "Nycives": "New quality productive forces", "Cialomy": "Digital-economy core-industry agglomeration",
    "Sicoughs": "S&T breakthrough", "Actros": "Factor allocation", "Irading": "Industrial-structure upgrading",
    "Idetion": "International trade cooperation (ln FDI)", "Eoryity": "Environmental regulation",
    "Mentel": "Marketisation", "Fialevel": "Fintech level", "Tinevel": "Transport level",
    "Fprises": "High-tech firm base",
}


@dataclass
class Suite:
    tables: dict[str, Table]
    results: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)


def region_labels(df: pd.DataFrame, cfg: ModelsConfig) -> pd.Series:
    """NBS region of every row: from ``cfg.region`` if given, else from ``cfg.province``."""
    if cfg.region:
        require_columns(df, [cfg.region], what="region column")
        lab = df[cfg.region].astype("string").str.strip().str.lower()
        zh = {v: k for k, v in REGION_ZH.items()}
        lab = lab.map(lambda v: zh.get(v, v) if v is not pd.NA else v)
        bad = ~lab.isin(REGION_ORDER)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"unknown region {df[cfg.region].iloc[i]!r}; use east/central/west/northeast",
                             file=df.attrs.get("source"), row=data_row(i), column=cfg.region)
        return lab
    require_columns(df, [cfg.province], what="province column (or set [models] region)")
    t = regions_table()
    lookup = {**dict(zip(t.province, t.region, strict=True)), **dict(zip(t.province_short, t.region, strict=True))}
    prov = df[cfg.province].astype("string").str.strip()
    lab = prov.map(lambda v: lookup.get(v) if isinstance(v, str) else None)
    bad = lab.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"unknown province {prov.iloc[i]!r}: not one of the 31 provinces of "
                         "coretech/data/regions_nbs.csv", file=df.attrs.get("source"), row=data_row(i),
                         column=cfg.province)
    return lab.astype("string")


def prepare_panel(df: pd.DataFrame, cfg: ModelsConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Check roles, numeric columns and unique city-years; numeric columns become float."""
    source = df.attrs.get("source")
    need = [cfg.y, cfg.d, *cfg.controls, *cfg.mediators]
    require_columns(df, [cfg.city, cfg.year])
    require_columns(df, need)
    check_unique_panel(df, cfg.city, cfg.year)
    out = df.copy()
    out.attrs = {"source": source} if source else {}
    numeric = list(dict.fromkeys([*need, cfg.year] + ([cfg.pca_index] if cfg.pca_index in df.columns else [])))
    for c in numeric:
        out[c] = numeric_column(df, c)
    counts = {"rows": len(out), "cities": int(out[cfg.city].nunique()), "years": int(out[cfg.year].nunique())}
    return out, counts



def run_suite(df: pd.DataFrame, cfg: ModelsConfig | None = None, *, base: Path | None = None) -> Suite:
    """Estimate Tables 2-7 of ``cfg.tables`` on ``df``.

    BLAS runs single-threaded meanwhile (threadpoolctl): the problems are small and dense,
    and threads only add contention (3x faster on a busy 2-core machine).
    """
    from threadpoolctl import threadpool_limits

    cfg = cfg or ModelsConfig()
    with threadpool_limits(1):
        suite = _run_suite(df, cfg, base)
    simulated = cfg.simulated or bool(df.attrs.get("simulated", False))
    for t in suite.tables.values():
        relabel(t, cfg.labels)
        if simulated:
            t.notes.append(SIMULATED_NOTE_ZH if cfg.language == "zh" else SIMULATED_NOTE)
    return suite


#: The note every table of a simulated panel carries (``[models] simulated``).
SIMULATED_NOTE = ("SIMULATED DATA: the panel is simulated (coretech.simulate.panel) with known "
                  "effects; no number in this table describes real cities.")
SIMULATED_NOTE_ZH = "模拟数据（SIMULATED）：面板由 coretech.simulate.panel 按已知效应模拟生成，表中数值不描述真实城市。"


def _first_stage_rows(lagged: pd.DataFrame, r4: RegressionResult, cfg: ModelsConfig,
                      fe: list[str], dec: int) -> dict[str, str]:
    """Table 4's first stage: the coefficient of the instrument (SE under it), the F and the
    partial R² of the excluded instrument (from the IV diagnostics)."""
    d, z = cfg.d, f"L.{cfg.d}"
    sample = lagged.loc[r4.info["index"]] if "index" in r4.info else lagged
    first = twfe(sample, d, [z, *cfg.controls], fe=fe,
                 cluster=cfg.city if cfg.iv_cov == "cluster" else None)
    fs = (r4.diagnostics.get("first_stage") or {}).get(d, {})
    rows = {f"First stage: coefficient of {z}": fmt(float(first.params[z]), dec)
            + stars(float(first.pvalues[z])),
            "": f"({fmt(float(first.std_errors[z]), dec)})"}
    if "F" in fs:
        rows[f"First stage: F of {z} [p]"] = f"{fmt(fs['F'], dec)} [{fmt(fs.get('F_p'), dec)}]"
    if "partial_r2" in fs:
        rows["First stage: partial R² of the instrument"] = fmt(fs["partial_r2"], dec)
    return rows


def _check_clusters(panel: pd.DataFrame, cfg: ModelsConfig) -> None:
    """Clustered standard errors need at least two clusters (say how many there are)."""
    cl = cfg.cluster_arg
    for c in [cl] if isinstance(cl, str) else (cl or []):
        require_columns(panel, [c], what="cluster column")
        n = int(panel[c].nunique())
        if n < 2:
            raise InputError(f"clustered standard errors need at least 2 clusters; {c!r} has {n} "
                             "(set [models] cluster = \"robust\" for robust SEs)",
                             file=panel.attrs.get("source"), column=c)


def _run_suite(df: pd.DataFrame, cfg: ModelsConfig, base: Path | None) -> Suite:
    panel, counts = prepare_panel(df, cfg)
    _check_clusters(panel, cfg)
    zh = cfg.language == "zh"
    lang = cfg.language
    dec = cfg.decimals
    y, d, ctrls, meds = cfg.y, cfg.d, list(cfg.controls), list(cfg.mediators)
    fe = [cfg.city, cfg.year]
    cl = cfg.cluster_arg
    tables: dict[str, Table] = {}
    results: dict[str, Any] = {}
    se_note = (("标准误按城市聚类" if zh else f"Standard errors clustered by {cl}.") if isinstance(cl, str)
               else ("稳健标准误" if zh else "Heteroskedasticity-robust standard errors.") if cl is None
               else ("双向聚类标准误" if zh else f"Two-way clustered standard errors ({', '.join(cl)})."))
    want = set(cfg.tables)

    if 2 in want:
        groups = [("被解释变量" if zh else "Dependent", [y]), ("解释变量" if zh else "Explanatory", [d]),
                  ("中介变量" if zh else "Mediators", meds), ("控制变量" if zh else "Controls", ctrls)]
        meanings = {**(MEANINGS_ZH if zh else MEANINGS_EN), **cfg.meanings, **cfg.labels}
        tables["table2"] = descriptive_table(
            panel, [(g, c) for g, c in groups if c], meanings=meanings, decimals=dec, lang=lang,
            title="表2 变量描述性统计" if zh else "Table 2. Descriptive statistics")

    if 3 in want:
        cols = []
        res3 = []
        for k in range(len(ctrls) + 1):
            r = twfe(panel, y, [d, *ctrls[:k]], fe=fe, cluster=cl)
            res3.append(r)
            cols.append(Column(r, y, controls=k > 0))
        results["table3"] = res3
        notes = [se_note, "Constant as reported by reghdfe / xtreg, fe: mean(Y) - mean(X)'b."]
        if cfg.hausman:
            try:
                tests = HausmanTests(panel, y, [d, *ctrls], unit=cfg.city, time=cfg.year)
                hc, hm = tests.classic(), tests.mundlak()
                results["hausman"] = {"classic": hc, "mundlak": hm}
                parts = [f"Hausman FE vs RE (classic): {hc.text(dec)}"]
                if hc.note:
                    hs = tests.classic(sigmamore=True)
                    results["hausman"]["sigmamore"] = hs
                    parts.append(f"classic with sigmamore (both covariances on the RE disturbance variance): "
                                 f"{hs.text(dec)}")
                parts.append(f"cluster-robust (Mundlak): {hm.text(dec)}")
                notes.append("; ".join(parts) + ".")
            except (np.linalg.LinAlgError, ValueError) as exc:  # pragma: no cover - reported, not fatal
                notes.append(f"Hausman test not available: {exc}")
        tables["table3"] = regression_table(
            "table3", "表3 基准回归结果" if zh else "Table 3. Baseline two-way fixed effects",
            cols, [d, *ctrls], decimals=dec, controls_row=False, notes=notes, lang=lang)

    if 4 in want:
        lagged = add_lag(panel, d, unit=cfg.city, time=cfg.year, name=f"L.{d}")
        r4 = iv_gmm(lagged, y, d, f"L.{d}", exog=ctrls, fe=fe,
                    cov="cluster" if cfg.iv_cov == "cluster" else "robust",
                    cluster=cfg.city if cfg.iv_cov == "cluster" else None,
                    convention=cfg.iv_convention_used)
        results["table4"] = r4
        g = r4.diagnostics
        rows = {
            "Cragg-Donald Wald F": fmt(g["cd_f"], dec),
            "Kleibergen-Paap rk Wald F": fmt(g["kp_f"], dec),
            "Stock-Yogo 10% critical value": fmt(g["stock_yogo_10"], 2),
            "Kleibergen-Paap rk LM [p]": f"{fmt(g['kp_lm'], dec)} [{fmt(g['kp_lm_p'], dec)}]",
        }
        if g["hansen_j_df"] > 0:
            rows["Hansen J [p]"] = f"{fmt(g['hansen_j'], dec)} [{fmt(g['hansen_j_p'], dec)}]"
        rows["Wald F of the second stage, all slopes = 0 [p]"] = \
            f"{fmt(r4.fvalue, dec)} [{fmt(r4.f_pvalue, dec)}]"
        rows.update(_first_stage_rows(lagged, r4, cfg, fe, dec))
        tables["table4"] = regression_table(
            "table4", "表4 内生性检验" if zh else "Table 4. Endogeneity: IV-GMM (two-step), instrument = first lag",
            [Column(r4, y, extra=rows)], [d], labels={d: f"{cfg.label(d)} (instrumented by L.{d})"},
            decimals=dec, constant=False, extra_rows=list(rows), lang=lang,
            notes=[f"Two-step efficient GMM (ivreg2 gmm2s), city and year effects partialled out; "
                   f"{'cluster-robust' if cfg.iv_cov == 'cluster' else 'heteroskedasticity-robust'} covariance; "
                   f"N = city-years with the lag observed ({r4.info['dropped_missing']} rows without a lag dropped); "
                   f"degrees of freedom as {cfg.iv_convention_used} prints them "
                   f"(absorbed effects d = {g['dofminus']}). "
                   f"Wald F of the second stage: all slopes ({d} and the controls) = 0. First stage: "
                   f"{d} on L.{d} and the controls with city and year effects on the same sample "
                   "(twfe, the covariance of the second stage); its F and partial R² are those of "
                   "the excluded instrument (ivreg2 first)."])

    if 5 in want:
        from coretech.indicators import winsorize

        spec = [d, *ctrls]
        wcols = cfg.winsor_columns or list(dict.fromkeys([y, d, *meds, *ctrls]))
        require_columns(panel, wcols)
        wins = winsorize(panel, wcols, lower=cfg.winsor[0], upper=cfg.winsor[1])
        r51 = twfe(wins, y, spec, fe=fe, cluster=cl)
        cols5 = [Column(r51, y)]
        heads = ["样本缩尾处理" if zh else f"Winsorised {cfg.winsor[0]:g}/{cfg.winsor[1]:g}"]
        if cfg.pca_index:
            require_columns(panel, [cfg.pca_index], what="PCA index column ([models] pca_index)")
            cols5.append(Column(twfe(panel, cfg.pca_index, spec, fe=fe, cluster=cl), cfg.pca_index))
            heads.append("替换测算方法" if zh else "PCA index")
        pilots = _pilot_mask(panel, cfg, base)
        if pilots.all():
            raise InputError("excluding the pilot cities leaves no observations",
                             column=cfg.pilot_column or "pilot_cities")
        n_pilot = int(panel.loc[pilots, cfg.city].nunique())
        counts["pilot_cities_excluded"] = n_pilot
        notes5 = [se_note]
        if n_pilot:
            r53 = twfe(panel.loc[~pilots], y, spec, fe=fe, cluster=cl)
            cols5.append(Column(r53, y))
            heads.append(f"考虑政策外生冲击（剔除{n_pilot}个试点城市）" if zh
                         else f"Excluding {n_pilot} pilot cities")
            source = (f"column {cfg.pilot_column}" if cfg.pilot_column else
                      f"the file {cfg.pilot_cities}" if isinstance(cfg.pilot_cities, str)
                      else "[models] pilot_cities")
            notes5.append(f"Last column drops the {n_pilot} pilot cities ({source}): {n_pilot} of "
                          f"{counts['cities']} cities, {int(pilots.sum())} city-years.")
        else:
            notes5.append("No pilot-city column: no pilot cities given ([models] pilot_cities or "
                          "pilot_column), so there is nothing to exclude.")
        results["table5"] = [c.result for c in cols5]
        tables["table5"] = regression_table(
            "table5", "表5 稳健性检验" if zh else "Table 5. Robustness",
            cols5, [d], decimals=dec, group_header=heads, lang=lang, notes=notes5)

    if 6 in want:
        regions = region_labels(panel, cfg)
        work = panel.assign(_region=regions.to_numpy())
        present = [r for r in REGION_ORDER if (work["_region"] == r).any()]
        spec = [d, *ctrls]
        reg_res = subsamples(work, y, spec, "_region", groups=present, fe=fe, cluster=cl)
        tier_res: dict[str, RegressionResult] = {}
        if cfg.tier:
            require_columns(panel, [cfg.tier], what="tier column ([models] tier)")
            tiers = cfg.tier_groups or sorted(panel[cfg.tier].astype("string").dropna().unique())
            tier_res = subsamples(panel, y, spec, cfg.tier, groups=tiers, fe=fe, cluster=cl)
        tests = _group_tests(work, y, d, ctrls, "_region", present, reg_res, cfg, fe, cl)
        tests = {f"region_{k}": v for k, v in tests.items()}
        if len(tier_res) >= 2:
            tier_tests = _group_tests(panel, y, d, ctrls, cfg.tier, tiers, tier_res, cfg, fe, cl)
            tests.update({f"tier_{k}": v for k, v in tier_tests.items()})
        results["table6"] = {"regions": reg_res, "tiers": tier_res, "tests": tests}
        r_chow = "Chow (fully interacted) F [p]"
        r_sur = "Stacked (SUR) Wald F [p]"
        r_wild = "Wild cluster bootstrap p" if cl is not None else "Wild bootstrap p"
        extra_rows = [r_chow, r_sur, r_wild]

        def rows_of(prefix: str) -> dict[str, str]:
            out = {}
            if f"{prefix}_chow" in tests:
                t = tests[f"{prefix}_chow"]
                out[r_chow] = f"{fmt(t.statistic, dec)} [{fmt(t.pvalue, dec)}]"
            if f"{prefix}_stacked" in tests:
                t = tests[f"{prefix}_stacked"]
                out[r_sur] = f"{fmt(t.statistic, dec)} [{fmt(t.pvalue, dec)}]"
            if f"{prefix}_wild" in tests:
                out[r_wild] = fmt(tests[f"{prefix}_wild"].pvalue, dec)
            return out

        cols = []
        for i, r in enumerate(reg_res.values()):
            cols.append(Column(r, y, extra={} if i else rows_of("region")))
        for i, r in enumerate(tier_res.values()):
            cols.append(Column(r, y, extra={} if i or len(tier_res) < 2 else rows_of("tier")))
        heads = [REGION_ZH[g] if zh else g for g in reg_res] + [str(g) for g in tier_res]
        wild_note = (f"wild {'cluster ' if cl is not None else ''}bootstrap p of the Chow statistic "
                     f"(Rademacher weights, null of equal slopes imposed, {cfg.permutations} draws, seed {cfg.seed})"
                     if isinstance(cl, str) or cl is None else
                     "no wild bootstrap with two-way clustering (it takes one cluster variable)")
        tables["table6"] = regression_table(
            "table6", "表6 异质性检验" if zh else "Table 6. Heterogeneity: NBS regions and city tiers",
            cols, [d], decimals=dec, group_header=heads, extra_rows=extra_rows, lang=lang,
            notes=[se_note, "Tests that the slopes shown are equal (beyond the paper), in the first column of "
                   "each group (regions; tiers): Chow = Wald F of the fully interacted model (group-specific "
                   "slopes of D and the controls, group-specific year effects: its slopes are the ones shown), "
                   "cluster-robust as the columns; Stacked (SUR) = seemingly-unrelated (suest-style) Wald F on "
                   "the stacked subsample fits with the printed standard errors and their cross-covariances; "
                   f"{wild_note}."])

    if 7 in want:
        rule = "paper" if cfg.mechanism_rule == "both" else cfg.mechanism_rule
        chans = mechanism(panel, y, d, meds, ctrls, fe=fe, cluster=cl, alpha=cfg.alpha, rule=rule,
                          n_boot=cfg.permutations, seed=cfg.seed)
        results["table7"] = chans
        tables["table7"] = _table7(chans, y, d, meds, cfg, rule, se_note)
    return Suite(tables, results, counts)


def _group_tests(df: pd.DataFrame, y: str, d: str, ctrls: list[str], group: str, order: list[str],
                 fits: dict[str, RegressionResult], cfg: ModelsConfig, fe: list[str], cl: Any) -> dict[str, Any]:
    """The Chow, stacked and wild bootstrap tests of equal slopes of one grouping."""
    kw = {"unit": cfg.city, "fe": fe, "cluster": cl, "groups": order}
    out = {"chow": chow_test(df, y, d, ctrls, group, **kw),
           "stacked": stacked_test(df, y, d, ctrls, group, fits=fits, **kw)}
    if cl is None or isinstance(cl, str):
        out["wild"] = wild_bootstrap_test(df, y, d, ctrls, group, n_boot=cfg.permutations, seed=cfg.seed, **kw)
    return out


def _table7(chans: list[Any], y: str, d: str, meds: list[str], cfg: ModelsConfig, rule: str, se_note: str) -> Table:
    zh = cfg.language == "zh"
    dec = cfg.decimals
    holds_row = "渠道成立" if zh else "Channel holds"
    ab_row, se_row, ci_row = "Indirect effect a·b", "Delta-method SE [p]", \
        f"Bootstrap {100 * (1 - cfg.alpha):g}% CI"
    yes, no = ("是", "否") if zh else ("Yes", "No")
    cols = []
    for ch in chans:
        ex = {holds_row: yes if ch.holds else no}
        if ch.indirect is not None:
            ex.update({ab_row: fmt(ch.indirect, dec), se_row: f"{fmt(ch.indirect_se, dec)} [{fmt(ch.indirect_p, dec)}]",
                       ci_row: f"[{fmt(ch.boot_ci[0], dec)}, {fmt(ch.boot_ci[1], dec)}]"})
        cols.append(Column(ch.y_on_m, y))
        cols.append(Column(ch.m_on_d, ch.mediator, extra=ex))
    if rule == "mediation":
        title = "表7 作用机制检验（间接效应）" if zh else "Table 7. Mechanisms: indirect effect a·b"
        extra_rows = [ab_row, se_row, ci_row, holds_row]
        note = ("For each mediator M: Y on M and D (odd columns, b = coefficient of M) and eq. (3) M on D "
                "(even columns, a = coefficient of D), controls, city and year effects. Indirect effect a·b "
                "with a delta-method SE (including the covariance of a and b) and a percentile cluster "
                f"bootstrap interval ({cfg.permutations} draws of clusters, seed {cfg.seed}); the channel holds "
                f"when the {100 * (1 - cfg.alpha):g}% bootstrap interval lies above 0.")
    else:
        title = ("表7 作用机制检验（论文原式）" if zh else
                 "Table 7. Mechanisms: the paper's rule as written (Jiang 2022 two-step)")
        extra_rows = [holds_row]
        note = ("Paper's rule as written: eq. (2) Y on M (without D, odd columns) and eq. (3) M on D (even "
                "columns). Channel holds when " + ("both coefficients are" if rule == "paper" else
                                                    "the M-on-D coefficient (eq. 3) is")
                + f" significantly positive at {cfg.alpha:g}. This is not a test of mediation: eq. (2) "
                "omits D, so it finds a channel even when M has no effect on Y "
                "(mechanism_rule = \"mediation\" tests the indirect effect).")
    return regression_table("table7", title, cols, [*meds, d], decimals=dec, extra_rows=extra_rows,
                            lang=cfg.language, notes=[se_note, note])


def _pilot_mask(panel: pd.DataFrame, cfg: ModelsConfig, base: Path | None) -> np.ndarray:
    if cfg.pilot_column:
        require_columns(panel, [cfg.pilot_column], what="pilot column ([models] pilot_column)")
        v = numeric_column(panel, cfg.pilot_column).fillna(0).to_numpy()
        return v != 0
    names = set(cfg.pilot_list(base))
    if not names:
        return np.zeros(len(panel), dtype=bool)
    cities = panel[cfg.city].astype("string").str.strip()
    known = set(cities.dropna())
    # accept names with or without the 市 suffix
    norm = {n if n in known else (n + "市" if n + "市" in known else n) for n in names}
    return cities.isin(norm).fillna(False).to_numpy()


def _res_json(r: RegressionResult) -> dict[str, Any]:
    out = {
        "model": r.model, "dep_var": r.dep_var, "cov_type": r.cov_type, "nobs": r.nobs,
        "df_resid": r.df_resid, "rsquared": r.rsquared, "rsquared_within": r.rsquared_within,
        "params": {k: float(v) for k, v in r.params.items()},
        "std_errors": {k: float(v) for k, v in r.std_errors.items()},
        "pvalues": {k: float(v) for k, v in r.pvalues.items()},
        "fvalue": _num(r.fvalue),
        "notes": list(r.notes),
    }
    diag = {k: v for k, v in r.diagnostics.items() if not isinstance(v, dict)}
    if diag:
        out["diagnostics"] = diag
    return out


def _num(v: float) -> float | None:
    return float(v) if v is not None and np.isfinite(v) else None


def estimates_json(suite: Suite) -> dict[str, Any]:
    """The numbers behind the tables, JSON-ready."""
    res = suite.results
    out: dict[str, Any] = {}
    if "table3" in res:
        out["table3"] = [_res_json(r) for r in res["table3"]]
    if "hausman" in res:
        out["hausman"] = {k: {"statistic": h.statistic, "df": h.df, "pvalue": _num(h.pvalue), "method": h.method,
                              "note": h.note} for k, h in res["hausman"].items()}
    if "table4" in res:
        out["table4"] = _res_json(res["table4"])
    if "table5" in res:
        out["table5"] = [_res_json(r) for r in res["table5"]]
    if "table6" in res:
        t6 = res["table6"]
        out["table6"] = {
            "regions": {k: _res_json(v) for k, v in t6["regions"].items()},
            "tiers": {k: _res_json(v) for k, v in t6["tiers"].items()},
            "tests": {k: {"method": t.method, "description": t.description, "statistic": t.statistic,
                          "pvalue": t.pvalue, "df": list(t.df),
                          "slopes": {g: float(s) for g, s in t.slopes.items()}, "n_boot": t.n_boot,
                          "weights": t.weights, "seed": t.seed}
                      for k, t in t6["tests"].items()},
        }
    if "table7" in res:
        out["table7"] = [{"mediator": c.mediator, "holds": c.holds, "rule": c.rule,
                          "y_on_m": _res_json(c.y_on_m), "m_on_d": _res_json(c.m_on_d),
                          "indirect": None if c.indirect is None else {
                              "estimate": c.indirect, "delta_se": c.indirect_se, "delta_p": c.indirect_p,
                              "delta_ci": list(c.delta_ci), "bootstrap_ci": list(c.boot_ci),
                              "n_boot": c.n_boot, "seed": c.seed, "alpha": c.alpha}}
                         for c in res["table7"]]
    return out


def run_models(panel: Any, *, study: Any = None, out: str | Path = "tables",
               simulated: bool = False) -> dict[str, Any]:
    """Read ``panel`` (a path or a DataFrame), run Tables 2-7, write them to ``out``.

    ``study`` is a study TOML path (its ``[models]`` table is used), a mapping (the
    ``[models]`` table), a :class:`ModelsConfig`, or None (the paper's defaults).
    ``simulated``: the panel is simulated (``coretech models --simulate``): every table says so.
    Returns the provenance record written to ``<out>/models.meta.json``.
    """
    from coretech.io import read_table, write_json
    from coretech.models.export import write_table_formats
    from coretech.provenance import provenance, write_provenance

    cfg, base = load_study(study)
    if isinstance(panel, pd.DataFrame):
        df, inputs = panel, {"panel": None}
    else:
        df, inputs = read_table(panel), {"panel": panel}
    if isinstance(study, (str, Path)):
        inputs["study"] = study
    if isinstance(cfg.pilot_cities, str):
        p = Path(cfg.pilot_cities)
        inputs["pilot_cities"] = p if p.exists() or base is None else base / p
    if simulated:
        cfg = replace(cfg, simulated=True)
    suite = run_suite(df, cfg, base=base)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[str]] = {}
    for name, table in suite.tables.items():
        paths = write_table_formats(table, out, cfg.formats)
        written[name] = [p.name for p in paths.values()]
    write_json(out / "estimates.json", estimates_json(suite))
    record = provenance(
        stage="models",
        inputs=inputs,
        options=cfg.as_dict(),
        outputs={"tables": written, "estimates": "estimates.json"},
        counts=suite.counts,
        packages=("numpy", "pandas", "scipy", "linearmodels", "statsmodels", "openpyxl", "python-docx"),
        simulated=cfg.simulated or bool(df.attrs.get("simulated", False)),
    )
    write_provenance(out / "models", record)
    return record
