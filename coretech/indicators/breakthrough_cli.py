"""The ``coretech breakthrough`` command (registered on the ``coretech`` app by :mod:`coretech.cli`)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer, ipc_app: typer.Typer) -> None:
    """Add ``breakthrough`` to ``app``."""

    @app.command("breakthrough")
    def breakthrough(
        patents: Path = typer.Argument(..., help="Patent records: CSV (UTF-8/GBK), Excel, Parquet or .dta."),
        dictionary: Path = typer.Option(..., "--dictionary", help="Core-technology IPC dictionary (column ipc_code; rows whose decision is reject / rejected / 拒绝 are left out)."),
        out: Path = typer.Option(..., "--out", help="Output table: city, year, k_raw, lag_share_cum, k_adj, sicoughs (format by extension)."),
        end_year: int = typer.Option(2022, "--end-year", help="T: the data's last year; only grants by T count in K_raw."),
        reference: str = typer.Option("2000-2016", "--reference", help="Application cohorts that estimate T_s, FIRST-LAST ('all' = every cohort)."),
        lag_table: Path | None = typer.Option(None, "--lag-table", help="Write the lag distribution: s, n, share, cum_share (+ share_<group>)."),
        ipc: Path | None = typer.Option(None, "--ipc", help="IPC scheme table for subgroup subtrees (default: the embedded scheme)."),
        encoding: str | None = typer.Option(None, "--encoding", help="Text encoding of a CSV (default: detect UTF-8 / GB18030; e.g. latin-1)."),
        columns: list[str] | None = typer.Option(None, "--columns", help="Map a column: old=new (repeatable), e.g. --columns app_num=patent_id."),
        sheet: str = typer.Option("0", "--sheet", help="Excel sheet (name or 0-based number)."),
        main_only: bool = typer.Option(False, "--main-only", help="Count a patent by its main IPC symbol only (default: any of its symbols)."),
        boundaries: int = typer.Option(2022, "--boundaries", help="Map every year to the prefecture boundaries of this year."),
        lag_method: str = typer.Option("pooled", "--lag-method", help="pooled (paper), complete (cohorts seen >= s_max years) or kaplan_meier (right-truncation aware)."),
        s_max: int | None = typer.Option(None, "--s-max", help="Longest lag for complete / kaplan_meier."),
        lag_by: str | None = typer.Option(None, "--lag-by", help="Estimate T_s by group: type (patent_type) or section (IPC section of the main symbol)."),
        lag_sample: str = typer.Option("all", "--lag-sample", help="Patents that estimate T_s: all (default) or core (dictionary patents only)."),
        adjust_from: int | None = typer.Option(None, "--adjust-from", help="First year adjusted by eq. (5) (default: the year after the reference window, as the paper)."),
        years: str | None = typer.Option(None, "--years", help="Years of the output panel FIRST-LAST (default: first application year to end year)."),
        bootstrap: int = typer.Option(0, "--bootstrap", help="Bootstrap replicates for k_adj_lo / k_adj_hi (e.g. 999; 0 = none)."),
        seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
        level: float = typer.Option(0.95, "--level", help="Coverage of the bootstrap interval."),
        plots: Path | None = typer.Option(None, "--plots", help="Folder for plots of the lag distribution and raw vs adjusted counts."),
        plot_format: str = typer.Option("png", "--plot-format", help="png or svg."),
        rejects: Path | None = typer.Option(None, "--rejects", help="Rejected rows (file, row, column, value, reason); default <out>.rejects.csv."),
        allow_unknown_cities: bool = typer.Option(False, "--allow-unknown-cities", help="Keep values of a city column that are not prefecture-level cities (counted); default: reject their rows."),
    ) -> None:
        """Count core-technology patents per city-year, adjust for the grant lag (eq. 5) and
        write Sicoughs = ln(1 + K_adj), with provenance beside the output.

        Examples:
        coretech breakthrough patents.csv --dictionary dict.csv --out sicoughs.csv
        coretech breakthrough pat.dta --dictionary dict.csv --out s.dta --plots figs
        coretech breakthrough pat.csv --dictionary d.csv --end-year 2020 --out s.csv
        """
        import sys

        from coretech.indicators.breakthrough import run_breakthrough, summary_lines

        record = run_breakthrough(
            patents, dictionary=dictionary, out=out, end_year=end_year, reference=reference,
            lag_table=lag_table, ipc=ipc, encoding=encoding, columns=columns,
            sheet=int(sheet) if sheet.isdigit() else sheet, main_only=main_only,
            boundaries=boundaries, lag_method=lag_method, s_max=s_max, lag_by=lag_by,
            lag_sample=lag_sample, adjust_from=adjust_from, years=years, bootstrap=bootstrap,
            seed=seed, level=level, plots=plots, plot_format=plot_format, rejects=rejects,
            allow_unknown_cities=allow_unknown_cities, progress=lambda m: print(f"... {m}", file=sys.stderr),
        )
        for line in summary_lines(record):
            typer.echo(line)
