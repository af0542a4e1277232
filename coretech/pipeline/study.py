"""The study file: one TOML file naming a study's inputs and every option of every stage.

A study file looks like this (every key is optional except where noted; paths are relative to
the folder of the study file)::

    [study]
    name = "my study"
    out = "output"                 # the output folder (default: "<stem>-out")

    [inputs]
    ipc = ["ipc_scheme_20260101.zip", "ipc_zh_2026_flat.tsv"]   # or "default" (embedded English)
    catalogue = "catalogue.xlsx"   # required for the match stage
    overrides = "dictionary.reviewed.csv"
    dictionary = "dictionary.csv"  # an existing dictionary: used instead of matching
    gold = "gold.csv"              # the audit stage runs when given
    patents = "patents.csv"        # or "simulate" (the demo's generator, see [simulate])
    panel = "panel.dta"            # or "simulate" (the models stage's simulator)

    [ipc]            # options of `coretech ipc load`; fetch = {source = "wipo", edition = ...}
    [match]          # options of `coretech match` (lang, threshold, ...)
    [audit]          # options of `coretech audit`
    [breakthrough]   # options of `coretech breakthrough` (end_year, reference, ...)
    [indicators]     # options of `coretech indicators` (spec, ...)
    [panel]          # how the models' panel is assembled (merge_sicoughs, min_lag_share)
    [models]         # parsed by coretech.models.config.ModelsConfig (passed through as is)
    [simulate]       # seeds and sizes of simulated inputs (demo)
    [report]         # title

Every stage table also accepts ``enabled = false`` to leave the stage out. Unknown keys are
errors that name the key, the line and the keys allowed; options of a stage are checked against
the signature of that stage's ``run_<command>`` function, so a typo fails before anything runs.

:func:`stage_key` gives the content-hash key of a stage run: SHA-256 of the stage name, the
content hashes of its input files, its options and the package versions (the pipeline adds
the hash of the stage's source code). The pipeline skips a stage whose key is unchanged.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coretech.errors import InputError

#: Tables of a study file holding a stage's options (the user-facing names).
STAGE_TABLES = (
    "ipc", "match", "audit", "breakthrough", "indicators", "panel", "models", "sensitivity", "report",
)
#: Keys every stage table accepts besides the stage's own options.
PIPELINE_KEYS = {"enabled"}
#: Inputs the [inputs] table may name.
INPUT_KEYS = ("ipc", "catalogue", "overrides", "dictionary", "gold", "patents", "panel")
#: Inputs that may be the word "simulate" instead of a path.
SIMULATABLE = ("patents", "panel")
STUDY_KEYS = {"name": str, "out": str}
SIMULATE_KEYS: dict[str, type | tuple[type, ...]] = {
    "seed": int,
    "n_patents": int,
    "first_year": int,
    "last_year": int,
    "core_share": (int, float),
    "grant_rate": (int, float),
    "panel_seed": int,
}
TOP_LEVEL = {"study", "inputs", "simulate", *STAGE_TABLES}


# --------------------------------------------------------------------------- the study object
@dataclass(frozen=True)
class Study:
    """A validated study file. Paths are absolute; options are plain dicts per stage."""

    path: Path | None
    root: Path
    name: str
    out: Path
    ipc: tuple[Path, ...] | None  # None = the embedded English scheme
    catalogue: Path | None = None
    overrides: Path | None = None
    dictionary: Path | None = None
    gold: Path | None = None
    patents: Path | str | None = None  # a path or "simulate"
    panel: Path | str | None = None  # a path or "simulate"
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    enabled: dict[str, bool] = field(default_factory=dict)
    simulate: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    def stage_options(self, stage: str) -> dict[str, Any]:
        """The options of ``stage`` as the study file gives them (without pipeline keys)."""
        return dict(self.options.get(stage, {}))

    def is_enabled(self, stage: str) -> bool:
        return self.enabled.get(stage, True)

    def input_path(self, name: str) -> Path | None:
        value = getattr(self, name)
        return value if isinstance(value, Path) else None

    def where(self, table: str, key: str | None = None) -> dict[str, Any]:
        """``file=`` / ``row=`` / ``column=`` for an :class:`InputError` about ``[table] key``."""
        return {
            "file": self.path,
            "row": line_of(self.text, table, key) if self.text else None,
            "column": f"{table}.{key}" if key else f"[{table}]",
        }


# --------------------------------------------------------------------------- loading
def line_of(text: str, table: str, key: str | None = None) -> int | None:
    """1-based line of ``key`` inside ``[table]`` of a TOML text (or of the table header)."""
    lines = text.splitlines()
    if key is not None:  # a sub-table [table.key]
        sub = re.compile(r"^\s*\[\s*" + re.escape(f"{table}.{key}") + r"\s*\]\s*(#.*)?$")
        for i, line in enumerate(lines):
            if sub.match(line):
                return i + 1
    header = re.compile(r"^\s*\[\s*" + re.escape(table) + r"\s*\]\s*(#.*)?$")
    any_header = re.compile(r"^\s*\[")
    start = None
    for i, line in enumerate(lines):
        if header.match(line):
            start = i
            break
    if start is None:
        if key is None:
            return None
        inline = re.compile(r"^\s*" + re.escape(table) + r"\s*=")
        for i, line in enumerate(lines):
            if inline.match(line):
                return i + 1
        return None
    if key is None:
        return start + 1
    pat = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    for j in range(start + 1, len(lines)):
        if any_header.match(lines[j]):
            break
        if pat.match(lines[j]):
            return j + 1
    return start + 1


def load_study(path: str | Path) -> Study:
    """Read and validate a study file; every error names the file, line and key."""
    path = Path(path)
    if not path.is_file():
        raise InputError("study file not found", file=path)
    raw_bytes = path.read_bytes()
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"the study file is not UTF-8 (byte offset {exc.start})", file=path) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(
            f"not a valid TOML file: {exc}", file=path, row=int(m.group(1)) if m else None
        ) from exc
    return study_from_mapping(data, root=path.parent.resolve(), path=path.resolve(), text=text)


def study_from_mapping(
    data: Mapping[str, Any],
    *,
    root: str | Path,
    path: Path | None = None,
    text: str = "",
    default_out: str | None = None,
) -> Study:
    """Validate a parsed study mapping (as from ``tomllib``) and resolve its paths."""
    root = Path(root).resolve()

    def err(msg: str, table: str, key: str | None = None) -> InputError:
        return InputError(
            msg,
            file=path,
            row=line_of(text, table, key) if text else None,
            column=f"{table}.{key}" if key else f"[{table}]",
        )

    for top in data:
        if top not in TOP_LEVEL:
            raise InputError(
                f"unknown table or key {top!r}; a study file has "
                + ", ".join(f"[{t}]" for t in sorted(TOP_LEVEL)),
                file=path,
                row=line_of(text, top) if text else None,
                column=top,
            )
        if not isinstance(data[top], Mapping):
            raise err(f"{top!r} must be a table ([{top}]), not a {type(data[top]).__name__}", top)

    study_t = dict(data.get("study", {}))
    for k, v in study_t.items():
        if k not in STUDY_KEYS:
            raise err(f"unknown key; [study] takes {', '.join(sorted(STUDY_KEYS))}", "study", k)
        if not isinstance(v, STUDY_KEYS[k]):
            raise err(f"expected a string, got {v!r}", "study", k)
    stem = path.stem if path is not None else "study"
    name = study_t.get("name", stem)
    out = root / study_t.get("out", default_out or f"{stem}-out")

    inputs_t = dict(data.get("inputs", {}))
    resolved: dict[str, Any] = {}
    for k, v in inputs_t.items():
        if k not in INPUT_KEYS:
            raise err(f"unknown input; [inputs] takes {', '.join(INPUT_KEYS)}", "inputs", k)
        if k == "ipc":
            if v == "default":
                resolved["ipc"] = None
                continue
            items = [v] if isinstance(v, str) else v
            if not isinstance(items, list) or not items or not all(isinstance(s, str) for s in items):
                raise err('expected a path, a list of paths or "default"', "inputs", k)
            paths = []
            for s in items:
                p = (root / s).resolve()
                if not p.exists():
                    raise err(f"file not found: {p}", "inputs", k)
                paths.append(p)
            resolved["ipc"] = tuple(paths)
            continue
        if not isinstance(v, str) or not v:
            raise err("expected a path (a string)", "inputs", k)
        if v == "simulate":
            if k not in SIMULATABLE:
                raise err(f'only {" and ".join(SIMULATABLE)} may be "simulate"', "inputs", k)
            resolved[k] = "simulate"
            continue
        p = (root / v).resolve()
        if not p.exists():
            raise err(f"file not found: {p}", "inputs", k)
        resolved[k] = p
    resolved.setdefault("ipc", None)

    options: dict[str, dict[str, Any]] = {}
    enabled: dict[str, bool] = {}
    for table in STAGE_TABLES:
        t = dict(data.get(table, {}))
        if "enabled" in t:
            if not isinstance(t["enabled"], bool):
                raise err("expected true or false", table, "enabled")
            enabled[table] = t.pop("enabled")
        options[table] = t

    sim = dict(data.get("simulate", {}))
    for k, v in sim.items():
        if k not in SIMULATE_KEYS:
            raise err(
                f"unknown key; [simulate] takes {', '.join(sorted(SIMULATE_KEYS))}", "simulate", k
            )
        want = SIMULATE_KEYS[k]
        if isinstance(v, bool) or not isinstance(v, want):
            kind = "a string" if want is str else "a number"
            raise err(f"expected {kind}, got {v!r}", "simulate", k)

    # path-valued options are resolved against the study folder
    for table, key in PATH_OPTIONS:
        v = options.get(table, {}).get(key)
        if v is None or (isinstance(v, list) and key in LIST_OR_PATH):
            continue
        if not isinstance(v, str):
            raise err("expected a path (a string)", table, key)
        p = (root / v).resolve()
        if not p.exists():
            raise err(f"file not found: {p}", table, key)
        options[table][key] = p

    return Study(
        path=path,
        root=root,
        name=str(name),
        out=out,
        options=options,
        enabled=enabled,
        simulate=sim,
        text=text,
        **resolved,
    )


#: Options that may be a list instead of a file.
LIST_OR_PATH = {"pilot_cities"}
#: Options that name an input file (resolved against the study folder and content-hashed).
PATH_OPTIONS = (("indicators", "spec"), ("models", "pilot_cities"))


# --------------------------------------------------------------------------- option checks
def check_options(
    study: Study,
    table: str,
    func: Callable[..., Any],
    *,
    reserved: tuple[str, ...] = (),
) -> None:
    """Check ``[table]`` options against the keyword parameters of ``func``.

    ``reserved`` names parameters the pipeline fills itself (inputs, ``out``); giving them in
    the study file is an error too. A value of the wrong type for a parameter whose default is a
    bool, int, float or str is an error naming the key.
    """
    opts = study.options.get(table, {})
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return
    params = sig.parameters
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
    allowed = [
        n
        for n, p in params.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and n not in reserved
    ]
    for key, value in opts.items():
        if key in reserved:
            raise InputError(
                f"{key!r} is set by the pipeline from [inputs] / [study], not in [{table}]",
                **study.where(table, key),
            )
        if key not in params:
            if takes_kwargs:
                continue
            raise InputError(
                f"unknown option of {table}; allowed: {', '.join(sorted(allowed)) or '(none)'}",
                **study.where(table, key),
            )
        default = params[key].default
        if default is inspect.Parameter.empty or default is None:
            continue
        ok = True
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int | float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif isinstance(default, str):
            ok = isinstance(value, str)
        if not ok:
            raise InputError(
                f"expected a value like the default {default!r}, got {value!r}",
                **study.where(table, key),
            )


# --------------------------------------------------------------------------- content keys
def _canonical(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, list | tuple):
        return [_canonical(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, set | frozenset):
        return sorted(_canonical(v) for v in obj)
    if hasattr(obj, "item"):
        return obj.item()
    return obj


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: equal objects give equal strings."""
    return json.dumps(_canonical(obj), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def stage_key(
    stage: str,
    *,
    input_hashes: Mapping[str, str | None],
    options: Mapping[str, Any],
    versions: Mapping[str, str],
) -> str:
    """SHA-256 over the stage name, its inputs' content hashes, its options and the versions.

    Inputs are keyed by the role they play (e.g. ``catalogue``), never by their path, so moving
    an output folder does not invalidate it.
    """
    payload = {
        "stage": stage,
        "inputs": dict(input_hashes),
        "options": options,
        "versions": dict(versions),
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
