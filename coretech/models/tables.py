"""Publication tables in the paper's layout, built from result objects.

A :class:`Table` is a grid of cells (header rows + body rows) plus a title and notes; the
writers of :mod:`coretech.models.export` render it to CSV, LaTeX, Word, Excel and HTML.
Regression columns show the coefficient with stars (*** p<0.01, ** p<0.05, * p<0.1; the
p-value of the estimator's own test: t with df_resid for twfe, normal for IV-GMM), the
standard error in parentheses underneath, then a controls row, the constant (twfe: the
reghdfe / ``xtreg, fe`` constant, mean(Y) - mean(X)'b), N and R-squared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from coretech.models.fe import CONST
from coretech.models.results import RegressionResult

WORDS = {
    "en": {
        "controls": "Controls", "yes": "Yes", "no": "No", "constant": "Constant",
        "n": "N", "r2": "R²", "city_fe": "City FE", "year_fe": "Year FE", "variable": "",
        "stars": "*** p<0.01, ** p<0.05, * p<0.1; standard errors in parentheses.",
    },
    "zh": {
        "controls": "控制变量", "yes": "控制", "no": "未控制", "constant": "常数项",
        "n": "样本量", "r2": "R²", "city_fe": "城市固定效应", "year_fe": "年份固定效应", "variable": "",
        "stars": "***、**、*依次表示在1%、5%、10%水平上显著，（）内数值为标准误。",
    },
}


def stars(p: float) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def fmt(x: float | None, decimals: int = 4) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return ""
    return f"{x:.{decimals}f}"


@dataclass
class Table:
    """A finished table: ``header`` rows and ``body`` rows of equal width, title and notes."""

    name: str
    title: str
    header: list[list[str]]
    body: list[list[str]]
    notes: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        return len(self.header[0]) if self.header else len(self.body[0])

    def grid(self) -> list[list[str]]:
        return [list(r) for r in self.header] + [list(r) for r in self.body]

    def to_frame(self) -> pd.DataFrame:
        cols = [" ".join(x for x in col if x).strip() or f"c{i}" for i, col in enumerate(zip(*self.header, strict=True))]
        return pd.DataFrame(self.body, columns=cols)

    def cell(self, row_label: str, col: int, *, offset: int = 0) -> str:
        """Body cell right of the first row whose first cell is ``row_label`` (+ ``offset`` rows)."""
        for i, r in enumerate(self.body):
            if r[0] == row_label:
                return self.body[i + offset][col]
        raise KeyError(row_label)


@dataclass
class Column:
    """One regression column: the result, the header text and what the rows should say."""

    result: RegressionResult
    dep: str
    controls: bool = True
    fe: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)


def regression_table(
    name: str,
    title: str,
    columns: Sequence[Column],
    variables: Sequence[str],
    *,
    labels: Mapping[str, str] | None = None,
    decimals: int = 4,
    constant: bool = True,
    controls_row: bool = True,
    fe_rows: bool = True,
    extra_rows: Sequence[str] = (),
    group_header: Sequence[str] | None = None,
    notes: Sequence[str] = (),
    lang: str = "en",
) -> Table:
    """Coefficient rows for ``variables`` (blank where a column lacks one), then the footer."""
    w = WORDS[lang]
    labels = dict(labels or {})
    header = []
    if group_header is not None:
        header.append(["", *group_header])
    header.append(["", *[c.dep for c in columns]])
    header.append(["", *[f"({i + 1})" for i in range(len(columns))]])
    body: list[list[str]] = []

    def coef_rows(var: str, label: str) -> None:
        top, bottom = [label], [""]
        for c in columns:
            r = c.result
            if var in r.params.index:
                top.append(fmt(r.params[var], decimals) + stars(float(r.pvalues[var])))
                bottom.append(f"({fmt(float(r.std_errors[var]), decimals)})")
            else:
                top.append("")
                bottom.append("")
        body.append(top)
        body.append(bottom)

    for v in variables:
        coef_rows(v, labels.get(v, v))
    if constant and any(CONST in c.result.params.index for c in columns):
        coef_rows(CONST, w["constant"])
    if controls_row:
        body.append([w["controls"], *[w["yes"] if c.controls else w["no"] for c in columns]])
    if fe_rows:
        body.append([w["city_fe"], *[w["yes"] if c.fe else w["no"] for c in columns]])
        body.append([w["year_fe"], *[w["yes"] if c.fe else w["no"] for c in columns]])
    for row in extra_rows:
        body.append([row, *[c.extra.get(row, "") for c in columns]])
    body.append([w["n"], *[str(c.result.nobs) for c in columns]])
    body.append([w["r2"], *[fmt(c.result.rsquared, decimals) for c in columns]])
    return Table(name, title, header, body, [*notes, *column_notes(columns, lang), w["stars"]])


def column_notes(columns: Sequence[Column], lang: str = "en") -> list[str]:
    """The results' own notes (omitted regressors, singletons, F not reported), each once,
    prefixed by the columns it applies to: "Columns (3), (4): X omitted because of collinearity"."""
    where: dict[str, list[int]] = {}
    for i, c in enumerate(columns):
        for note in getattr(c.result, "notes", []) or []:
            where.setdefault(note, []).append(i + 1)
    word = ("Column", "Columns") if lang == "en" else ("列", "列")
    out = []
    for note, cols in where.items():
        label = word[len(cols) > 1] + " " + ", ".join(f"({j})" for j in cols)
        out.append(f"{label}: {note}.")
    return out


def descriptive_table(
    df: pd.DataFrame,
    groups: Sequence[tuple[str, Sequence[str]]],
    *,
    meanings: Mapping[str, str] | None = None,
    decimals: int = 4,
    title: str = "Table 2. Descriptive statistics",
    lang: str = "en",
    notes: Sequence[str] = (),
) -> Table:
    """Table 2: one row per variable, grouped (dependent, explanatory, mediators, controls).

    N counts non-missing values; sd is the sample standard deviation (n - 1), as Stata's
    ``summarize``.
    """
    from coretech.models.validate import numeric_column

    meanings = dict(meanings or {})
    head = (["", "Meaning", "Variable", "N", "Mean", "SD", "Min", "Max"] if lang == "en"
            else ["", "变量含义", "变量符号", "样本量", "平均值", "标准差", "最小值", "最大值"])
    body = []
    for group, cols in groups:
        for i, c in enumerate(cols):
            s = numeric_column(df, c).dropna()
            body.append([
                group if i == 0 else "", meanings.get(c, ""), c, str(int(s.size)),
                fmt(float(s.mean()), decimals), fmt(float(s.std(ddof=1)), decimals),
                fmt(float(s.min()), decimals), fmt(float(s.max()), decimals),
            ])
    return Table("table2", title, [head], body, list(notes))
