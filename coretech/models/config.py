"""The ``[models]`` table of a study file (:class:`ModelsConfig`): which columns play which role, and the options of
Tables 2-7. Parsed by :meth:`ModelsConfig.from_mapping`; every key has a default (the paper's
variable names), unknown keys and wrong types are errors naming the key.

```toml
[models]
y = "Nycives"                 # outcome
d = "Cialomy"                 # regressor of interest
controls = ["Idetion", "Eoryity", "Mentel", "Fialevel", "Tinevel", "Fprises"]
mediators = ["Sicoughs", "Actros", "Irading"]
city = "city"
year = "year"
cluster = "city"              # "robust" for HC1, ["city", "year"] for two-way
province = "province"         # region derived from it (NBS east/central/west/northeast)
region = ""                   # or a column that already holds the region
tier = "tier"                 # city-tier column for Table 6 ("" = regions only)
tier_groups = []              # order of tiers (default: sorted values)
pca_index = "Nycives_pca"     # Table 5 column 2 ("" = no PCA column)
pilot_cities = []             # list of city names, or a file (one per line / column 'city')
pilot_column = ""             # or a 0/1 column marking pilot cities
winsor = [0.01, 0.99]         # Table 5 column 1 quantiles
winsor_columns = []           # default: y, d, mediators, controls
iv_cov = "robust"             # Table 4: "robust" (xtivreg2 fe gmm2s robust) or "cluster"
iv_convention = "ivreghdfe"   # Table 4's degrees of freedom: "ivreghdfe" (default), "xtivreg2", "ivreg2"
iv_fe_dof = ""                # legacy: "absorbed" = convention "xtivreg2", "none" = "ivreg2"
permutations = 999
seed = 0
mechanism_rule = "mediation"  # indirect effect a*b; "paper" (eqs. 2-3 as written; old name "both") or "d_to_m"
alpha = 0.05
hausman = true
formats = ["csv", "tex", "docx", "xlsx", "html"]
decimals = 4
language = "en"               # "en" or "zh" (the paper's Chinese labels)
tables = [2, 3, 4, 5, 6, 7]
labels = {}                   # column = label shown in the tables (raw name when absent); a
                              # study file's top-level [labels] table fills it too
simulated = false             # the panel is simulated: every table says so in its notes (set
                              # by `coretech models --simulate` and by [inputs] panel = "simulate")
```
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coretech.errors import InputError

PAPER_CONTROLS = ("Idetion", "Eoryity", "Mentel", "Fialevel", "Tinevel", "Fprises")
PAPER_MEDIATORS = ("Sicoughs", "Actros", "Irading")
#: The table formats :mod:`coretech.models.export` writes (here, so that checking a study's
#: ``formats`` does not import the writers and, through them, scipy).
FORMATS = ("csv", "tex", "docx", "xlsx", "html")


@dataclass
class ModelsConfig:
    y: str = "Nycives"
    d: str = "Cialomy"
    controls: list[str] = field(default_factory=lambda: list(PAPER_CONTROLS))
    mediators: list[str] = field(default_factory=lambda: list(PAPER_MEDIATORS))
    city: str = "city"
    year: str = "year"
    cluster: str | list[str] | None = "city"
    province: str = "province"
    region: str = ""
    tier: str = "tier"
    tier_groups: list[str] = field(default_factory=list)
    pca_index: str = "Nycives_pca"
    pilot_cities: list[str] | str = field(default_factory=list)
    pilot_column: str = ""
    winsor: list[float] = field(default_factory=lambda: [0.01, 0.99])
    winsor_columns: list[str] = field(default_factory=list)
    iv_cov: str = "robust"
    iv_convention: str = "ivreghdfe"
    iv_fe_dof: str = ""
    permutations: int = 999
    seed: int = 0
    mechanism_rule: str = "mediation"
    alpha: float = 0.05
    hausman: bool = True
    formats: list[str] = field(default_factory=lambda: ["csv", "tex", "docx", "xlsx", "html"])
    decimals: int = 4
    language: str = "en"
    tables: list[int] = field(default_factory=lambda: [2, 3, 4, 5, 6, 7])
    meanings: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    simulated: bool = False

    def label(self, column: str) -> str:
        """The label of ``column`` in the tables (``labels``), else its name."""
        return self.labels.get(column, column)

    @property
    def iv_convention_used(self) -> str:
        """The IV convention Table 4 applies (the legacy ``iv_fe_dof`` wins when given)."""
        return {"absorbed": "xtivreg2", "none": "ivreg2"}.get(self.iv_fe_dof, self.iv_convention)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> ModelsConfig:
        """Validate a ``[models]`` mapping; errors name the key (``InputError.column``)."""
        data = dict(data or {})
        if "models" in data and isinstance(data["models"], Mapping) and len(data) == 1:
            data = dict(data["models"])
        fields = {f.name: f for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, val in data.items():
            if key not in fields:
                raise InputError(
                    f"unknown [models] option {key!r}; known: {', '.join(sorted(fields))}",
                    column=key,
                )
            kwargs[key] = _coerce(key, val, getattr(cls(), key))
        cfg = cls(**kwargs)
        cfg._check()
        return cfg

    def _check(self) -> None:
        def bad(key: str, msg: str) -> InputError:
            return InputError(msg, column=key)

        if len(self.winsor) != 2 or not (0 <= self.winsor[0] < self.winsor[1] <= 1):
            raise bad("winsor", f"winsor must be [lower, upper] with 0 <= lower < upper <= 1, got {self.winsor}")
        for f in self.formats:
            if f not in FORMATS:
                raise bad("formats", f"unknown format {f!r}; use {', '.join(FORMATS)}")
        if self.iv_cov not in ("robust", "cluster"):
            raise bad("iv_cov", f"iv_cov must be 'robust' or 'cluster', not {self.iv_cov!r}")
        if self.iv_convention not in ("ivreghdfe", "xtivreg2", "ivreg2"):
            raise bad("iv_convention", "iv_convention must be 'ivreghdfe', 'xtivreg2' or 'ivreg2', "
                      f"not {self.iv_convention!r}")
        if self.iv_fe_dof not in ("", "absorbed", "none"):
            raise bad("iv_fe_dof", f"iv_fe_dof must be 'absorbed' or 'none', not {self.iv_fe_dof!r}")
        if self.mechanism_rule not in ("mediation", "paper", "both", "d_to_m"):
            raise bad("mechanism_rule", "mechanism_rule must be 'mediation', 'paper' ('both') or 'd_to_m', "
                      f"not {self.mechanism_rule!r}")
        if self.language not in ("en", "zh"):
            raise bad("language", f"language must be 'en' or 'zh', not {self.language!r}")
        if not 0 < self.alpha < 1:
            raise bad("alpha", f"alpha must be in (0, 1), got {self.alpha}")
        if self.permutations < 1:
            raise bad("permutations", f"permutations must be at least 1, got {self.permutations}")
        if not 0 <= self.decimals <= 10:
            raise bad("decimals", f"decimals must be between 0 and 10, got {self.decimals}")
        for t in self.tables:
            if t not in (2, 3, 4, 5, 6, 7):
                raise bad("tables", f"tables are numbered 2-7, got {t}")

    @property
    def cluster_arg(self) -> str | list[str] | None:
        """The ``cluster`` argument of :func:`twfe` (None = HC1 robust)."""
        c = self.cluster
        if c is None or c in ("", "robust", "none"):
            return None
        return c

    def pilot_list(self, base: Path | None = None) -> list[str]:
        """Pilot city names from the list or the file ``pilot_cities`` names."""
        p = self.pilot_cities
        if isinstance(p, list):
            return [str(x) for x in p]
        path = Path(p)
        if base is not None and not path.is_absolute() and not path.exists():
            path = base / path
        from coretech.io import read_table, read_text

        if path.suffix.lower() in (".csv", ".tsv", ".xlsx", ".xls", ".parquet", ".dta"):
            t = read_table(path)
            col = "city" if "city" in t.columns else t.columns[0]
            return [str(x).strip() for x in t[col] if str(x).strip()]
        text, _ = read_text(path)
        return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(key: str, val: Any, default: Any) -> Any:
    def err(expected: str) -> InputError:
        return InputError(f"[models] {key} must be {expected}, got {val!r}", column=key)

    if key == "cluster":
        if val is None or isinstance(val, str):
            return val
        if isinstance(val, list) and 1 <= len(val) <= 2 and all(isinstance(v, str) for v in val):
            return val[0] if len(val) == 1 else list(val)
        raise err("a column name, 'robust', or a list of two column names")
    if key == "pilot_cities":
        if isinstance(val, (str, Path)):
            return str(val)
        if isinstance(val, list):
            return [str(v) for v in val]
        raise err("a list of city names or a file path")
    if key in ("meanings", "labels"):
        if isinstance(val, Mapping):
            return {str(k): str(v) for k, v in val.items()}
        raise err("a table of column = description")
    if isinstance(default, bool):
        if isinstance(val, bool):
            return val
        raise err("true or false")
    if isinstance(default, int):
        if isinstance(val, int) and not isinstance(val, bool):
            return val
        raise err("an integer")
    if isinstance(default, float):
        if isinstance(val, (int, float)) and not isinstance(val, bool):
            return float(val)
        raise err("a number")
    if isinstance(default, str):
        if isinstance(val, str):
            return val
        raise err("a string")
    if isinstance(default, list):
        if isinstance(val, str) and key in ("controls", "mediators", "formats", "tier_groups", "winsor_columns"):
            return [val]
        if not isinstance(val, list):
            raise err("a list")
        if key == "winsor":
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in val):
                raise err("two numbers")
            return [float(v) for v in val]
        if key == "tables":
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in val):
                raise err("a list of table numbers")
            return list(val)
        if not all(isinstance(v, str) for v in val):
            raise err("a list of strings")
        return list(val)
    return val  # pragma: no cover


def load_study(study: Any) -> tuple[ModelsConfig, Path | None]:
    """A :class:`ModelsConfig` from a config, a mapping or a TOML path, and its folder."""
    import tomllib

    if isinstance(study, ModelsConfig):
        return study, None
    if study is None:
        return ModelsConfig(), None
    if isinstance(study, Mapping):
        return ModelsConfig.from_mapping(study), None
    path = Path(study)
    if not path.exists():
        raise InputError("study file not found", file=path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=path) from exc
    try:
        models = dict(data.get("models", {}))
        if isinstance(data.get("labels"), Mapping):  # the study file's [labels] table
            models["labels"] = {**data["labels"], **models.get("labels", {})}
        if (data.get("inputs") or {}).get("panel") == "simulate":
            models.setdefault("simulated", True)
        return ModelsConfig.from_mapping(models), path.parent
    except InputError as exc:
        raise InputError(exc.message, file=path, column=f"models.{exc.column}" if exc.column else None) from exc
