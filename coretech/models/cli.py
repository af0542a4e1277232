"""Commands of this stage (registered on the ``coretech`` app by :mod:`coretech.cli`)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer, ipc_app: typer.Typer) -> None:
    """Add ``coretech models`` to ``app``."""

    @app.command("models")
    def models_cmd(
        panel: Path = typer.Argument(
            ..., help="City panel (long: city, year, one column per variable; CSV/Excel/Parquet/.dta)."
        ),
        study: Path | None = typer.Option(
            None, "--study", help="Study TOML; its \\[models] table maps columns and sets options "
            "(defaults: the paper's variable names)."
        ),
        out: Path = typer.Option(Path("tables"), "--out", help="Folder for the tables (created)."),
        simulate: bool = typer.Option(
            False, "--simulate", help="Ignore PANEL (left untouched): write the simulated "
            "286-city panel to OUT/panel_simulated.csv (coretech.simulate.panel, seed from "
            "--seed) and use it."
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of --simulate."),
    ) -> None:
        """Estimate the paper's Tables 2-7 and write them as CSV, LaTeX, Word, Excel and HTML.

        Table 2 descriptives; 3 two-way FE (controls one at a time, Hausman tests); 4 IV-GMM
        with the first lag as instrument (CD/KP statistics, Stock-Yogo); 5 robustness; 6
        regions and tiers with tests of equal coefficients; 7 mechanisms. Also writes
        estimates.json and models.meta.json (provenance).

        Examples:
        coretech models panel.dta --out tables
        coretech models panel.csv --study study.toml --out tables
        """
        from coretech.models.study import run_models

        if simulate:
            panel = write_simulated_panel(panel, out=out, seed=seed)
        rec = run_models(panel, study=study, out=out)
        n = sum(len(v) for v in rec["outputs"]["tables"].values())
        typer.echo(f"wrote {n} table files for {len(rec['outputs']['tables'])} tables to {out}")


SIMULATED_PANEL_FILE = "panel_simulated.csv"


def write_simulated_panel(panel: Path, *, out: Path, seed: int) -> Path:
    """Write the simulated panel to ``out/panel_simulated.csv``; return that path.

    ``panel`` (the user's PANEL argument) is never written: a simulation goes to its own file
    under ``--out``, and naming that very file as PANEL is an error.
    """
    from coretech.errors import InputError
    from coretech.io import write_table
    from coretech.simulate.panel import simulate_panel

    target = Path(out) / SIMULATED_PANEL_FILE
    if target.resolve() == Path(panel).resolve():
        raise InputError(f"--simulate writes {target}, which is PANEL itself; give another "
                         "--out so that PANEL is not overwritten", file=panel)
    Path(out).mkdir(parents=True, exist_ok=True)
    write_table(simulate_panel(seed=seed), target)
    return target
