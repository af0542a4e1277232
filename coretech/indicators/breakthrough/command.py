"""The file-level entry point behind ``coretech breakthrough``: :func:`run_breakthrough`.

Steps: read the dictionary and the scheme (:mod:`.dictionary`), open the patent file
(:func:`coretech.indicators.patents.open_patents`), check and count (:mod:`.counter`),
estimate T_s and apply eq. (5) (:mod:`.adjust`), write the table, the rejects, the national
table, the lag table, the plots and the provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from coretech.errors import InputError
from coretech.indicators.breakthrough.adjust import (
    LARGE_FACTOR,
    adjust_counts,
    bootstrap_interval,
    estimate_shares,
    lag_table_frame,
    national_table,
)
from coretech.indicators.breakthrough.counter import FIRST_YEAR, BreakthroughCounter
from coretech.indicators.breakthrough.dictionary import (
    codes_not_in_scheme,
    load_scheme,
    read_dictionary,
    scheme_cover,
)
from coretech.indicators.lag import METHODS
from coretech.indicators.patents import open_patents
from coretech.io import write_table


def _parse_window(value: str | tuple[int, int] | None, name: str) -> tuple[int, int] | None:
    if value is None or isinstance(value, tuple):
        return value
    text = str(value).strip()
    if text.lower() in {"", "none", "all"}:
        return None
    try:
        a, b = (int(x) for x in text.replace("–", "-").split("-", 1))
    except ValueError as exc:
        raise InputError(f"{name} expects FIRST-LAST years such as 2000-2016, got {value!r}") from exc
    if a > b:
        raise InputError(f"{name} {a}-{b} is empty")
    return (a, b)


def run_breakthrough(
    patents: str | Path,
    *,
    dictionary: str | Path,
    out: str | Path,
    end_year: int = 2022,
    reference: tuple[int, int] | str | None = (2000, 2016),
    lag_table: str | Path | None = None,
    ipc: str | Path | None = None,
    encoding: str | None = None,
    columns: Mapping[str, str] | Iterable[str] | None = None,
    sheet: str | int | None = 0,
    main_only: bool = False,
    boundaries: int = 2022,
    lag_method: str = "pooled",
    s_max: int | None = None,
    lag_by: str | None = None,
    lag_sample: str = "all",
    adjust_from: int | None = None,
    years: tuple[int, int] | str | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    level: float = 0.95,
    plots: str | Path | None = None,
    plot_format: str = "png",
    rejects: str | Path | None = None,
    allow_unknown_cities: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Patents -> Sicoughs file (+ rejects, national table, lag table, plots, provenance).
    Returns provenance.

    ``adjust_from`` defaults to the year after the reference window (the paper adjusts
    2017-2022 with reference 2000-2016); ``years`` defaults to the first application year in
    the data through ``end_year``. ``allow_unknown_cities`` keeps values of a ``city`` column
    that are not prefecture-level cities (counted) instead of rejecting their rows. See
    docs/breakthrough.md for every option.
    """
    import duckdb

    from coretech.provenance import provenance, write_provenance

    reference = _parse_window(reference, "--reference")
    years = _parse_window(years, "--years")
    if lag_method not in METHODS:
        raise InputError(f"--lag-method must be one of {', '.join(METHODS)}, got {lag_method!r}")
    if bootstrap < 0:
        raise InputError("--bootstrap must be >= 0")
    if not 0 < level < 1:
        raise InputError("--level must be between 0 and 1")
    if end_year < FIRST_YEAR:
        raise InputError(f"--end-year {end_year} is before {FIRST_YEAR}, the first CNIPA filings")
    if reference is not None and reference[1] > end_year:
        raise InputError(f"--reference {reference[0]}-{reference[1]} ends after --end-year {end_year}")
    if years is not None and years[1] > end_year:
        raise InputError(f"--years {years[0]}-{years[1]} ends after --end-year {end_year}: no "
                         "grant after the end year is seen, so those years cannot be counted")
    if adjust_from is None:
        adjust_from = reference[1] + 1 if reference is not None else None
    say = progress or (lambda _m: None)
    out = Path(out)
    rejects_path = Path(rejects) if rejects else out.with_name(out.stem + ".rejects.csv")
    national_path = out.with_name(out.stem + ".national.csv")

    counter = BreakthroughCounter(end_year=end_year, main_only=main_only, lag_by=lag_by,
                                  lag_sample=lag_sample, boundaries=boundaries, years=years,
                                  allow_unknown_cities=allow_unknown_cities)
    say(f"reading the dictionary {dictionary}")
    dic = read_dictionary(dictionary)
    scheme = load_scheme(ipc)
    missing_codes = codes_not_in_scheme(dic["ipc_code"], scheme)
    if missing_codes:
        say(f"warning: {len(missing_codes)} dictionary code(s) not in {scheme.label}")
    cover = scheme_cover(dic["ipc_code"], scheme)

    con = duckdb.connect()
    # every result below is ordered explicitly: let DuckDB stream and aggregate out of order
    con.execute("SET preserve_insertion_order = false")
    try:
        say(f"reading {patents}")
        source = open_patents(con, patents, encoding=encoding, columns=columns, sheet=sheet)
        counter.fit(con, source, cover, progress=say, scheme=scheme)
    finally:
        con.close()
    stats = counter.stats_
    if stats["valid_rows"] == 0:
        raise InputError("no valid patent row (see the rejects file)", file=patents)
    if years is None:
        years = (int(stats["first_app_year"]), end_year)
    say("estimating the grant-lag distribution")
    try:
        shares = estimate_shares(counter.cells_, method=lag_method, reference=reference,
                                 end_year=end_year, s_max=s_max)
    except ValueError as exc:
        raise InputError(f"cannot estimate the lag distribution: {exc}", file=patents) from exc
    table = adjust_counts(counter.counts_, shares, cities=counter.cities_, years=years,
                          end_year=end_year, adjust_from=adjust_from)
    if bootstrap:
        say(f"bootstrap ({bootstrap} replicates)")
        lo, hi = bootstrap_interval(
            counter.counts_, counter.cells_, table, n_boot=bootstrap, seed=seed, level=level,
            method=lag_method, reference=reference, end_year=end_year, s_max=s_max,
            adjust_from=adjust_from, fallback=shares,
        )
        table["k_adj_lo"] = lo
        table["k_adj_hi"] = hi
    nat = national_table(table, reference=reference, adjust_from=adjust_from)
    lag_out = lag_table_frame(shares)
    # the output set: plots first (the step most likely to fail), then the tables, the meta
    # last with the SHA-256 of every file, so that no failure leaves a new table beside an
    # old meta (provenance.check_output_set tells a mixed set)
    plot_files: list[str] = []
    if plots is not None:
        from coretech.indicators.breakthrough_plots import write_plots

        plot_files = write_plots(Path(plots), lag_out, table, fmt=plot_format, national=nat,
                                 reference=reference)
    write_table(table, out)
    rej = counter.rejects_.copy()
    rej.insert(0, "file", str(patents))
    write_table(rej[["file", "row", "column", "value", "reason"]], rejects_path)
    write_table(nat, national_path)
    if lag_table is not None:
        write_table(lag_out, lag_table)
    zero_den = [int(y) for y in nat.loc[nat["status"].str.startswith("not adjustable"), "year"]]
    options = {
        "end_year": end_year,
        "reference": list(reference) if reference else None,
        "lag_unit": "calendar years (grant year - application year)",
        "lag_method": lag_method,
        "s_max": s_max,
        "lag_by": lag_by,
        "lag_sample": lag_sample,
        "adjust_from": adjust_from,
        "years": list(years),
        "ipc_counted": "main" if main_only else "any",
        "count_unit": "patent once per city-year (application year), granted by end_year",
        "application_years_accepted": [FIRST_YEAR, end_year],
        "boundaries": boundaries,
        "city_source": "city column" if "city" in source.columns else "applicant_address",
        "allow_unknown_cities": allow_unknown_cities,
        "encoding": encoding or source.encoding,
        "columns": dict(sorted(source.columns.items())),
        "bootstrap": bootstrap,
        "seed": seed if bootstrap else None,
        "level": level if bootstrap else None,
        "dictionary_codes": int(len(dic)),
        "scheme": str(ipc) if ipc is not None else "embedded default",
        "scheme_label": scheme.label,
        "large_factor": LARGE_FACTOR,
    }
    counts = dict(stats)
    counts["years_with_zero_denominator"] = zero_den
    counts["years_large_factor"] = [int(y) for y in nat.loc[nat["flag"] != "", "year"]]
    counts["dictionary_codes_not_in_scheme"] = missing_codes
    record = provenance(
        stage="breakthrough",
        inputs={"patents": patents, "dictionary": dictionary, "ipc": ipc},
        options=options,
        counts=counts,
        outputs={"table": str(out), "rejects": str(rejects_path), "national": str(national_path),
                 "lag_table": str(lag_table) if lag_table else None, "plots": plot_files},
        lag_shares={g: [round(float(x), 12) for x in t["share"]] for g, t in shares.items()},
    )
    write_provenance(out, record, files=[rejects_path, national_path,
                                         *([lag_table] if lag_table is not None else [])])
    return record


def summary_lines(record: Mapping[str, Any]) -> list[str]:
    """What the command prints: counts read / rejected / unresolved, warnings, where files went."""
    c = record["counts"]
    opts = record["options"]
    lines = [
        f"read {c['rows_read']} rows; rejected {c['rows_rejected']} "
        + (f"({', '.join(f'{k}: {v}' for k, v in c['rejected_by_column'].items())})"
           if c["rejected_by_column"] else ""),
        f"unresolved locations: {c['unresolved_locations']}; cities: {c['cities']}",
        f"core-technology patents granted by {opts['end_year']}: "
        f"{c['core_granted_by_end_year']}",
        f"wrote {record['outputs']['table']} (rejects: {record['outputs']['rejects']}; "
        f"national totals: {record['outputs'].get('national')})",
    ]
    by_reason = c.get("rejected_by_reason") or {}
    dates = {k: v for k, v in by_reason.items() if k.startswith("application date")}
    if dates:
        lines.append("rejected implausible dates (accepted application years "
                     f"{FIRST_YEAR}-{opts['end_year']}): "
                     + ", ".join(f"{k}: {v}" for k, v in dates.items()))
    if c.get("unknown_cities"):
        if opts.get("allow_unknown_cities"):
            lines.append(f"warning: kept {c['unknown_cities_kept']} value(s) of the city column "
                         f"that are not prefecture-level cities ({c['rows_with_unknown_city_kept']}"
                         " rows; --allow-unknown-cities)")
        else:
            lines.append(f"rejected {by_reason.get('unknown city', 0)} rows whose city is not a "
                         f"prefecture-level city ({c['unknown_cities']} distinct values; "
                         "--allow-unknown-cities keeps them)")
    missing = c.get("dictionary_codes_not_in_scheme") or []
    if missing:
        shown = ", ".join(missing[:10]) + (f" ... ({len(missing)} in all)" if len(missing) > 10 else "")
        lines.append(f"warning: {len(missing)} dictionary code(s) are not in {opts.get('scheme_label')}: "
                     f"{shown}; no patent classified in that edition can match them (an edition "
                     "mismatch is the usual cause, e.g. H01L codes moved to H10 in IPC 2023.01)")
    if c.get("years_with_zero_denominator"):
        lines.append(
            "warning: no grant is seen within T - t years for application year(s) "
            f"{c['years_with_zero_denominator']}: not adjustable, k_adj is empty there"
        )
    if c.get("years_large_factor"):
        lines.append(f"warning: adjustment factor above {opts.get('large_factor')} in year(s) "
                     f"{c['years_large_factor']} (see the national table)")
    return lines
