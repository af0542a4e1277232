"""The ``coretech indicators`` command (registered on the app by :mod:`coretech.cli`)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer, ipc_app: typer.Typer) -> None:
    """Add ``coretech indicators`` to ``app``."""

    @app.command("indicators")
    def indicators(
        panel: Path | None = typer.Argument(
            None, help="City panel, long form (one row per city-year): CSV (UTF-8/GBK), "
            "xlsx, parquet or .dta. Required unless --example-spec."),
        spec: Path | None = typer.Option(
            None, "--spec", help="TOML spec naming the indicators and their options (start "
            "from --example-spec), or a CSV indicator spec in the format of "
            "coretech/data/nycives_spec.csv (computes Nycives only). Required with PANEL."),
        out: Path | None = typer.Option(
            None, "--out", help="Output panel (format by extension); provenance goes to "
            "<stem>.meta.json beside it. Required with PANEL."),
        example_spec: Path | None = typer.Option(
            None, "--example-spec", help="Write the commented example spec (every option at "
            "its default) to this file and stop."),
    ) -> None:
        """Compute Cialomy (eq. 4), Nycives (entropy + PCA), Actros (eqs. 6-10), Irading (eq. 11) and logged controls on a city panel, as the spec says.

        Writes the panel with the new columns and a provenance record (input hashes, every option with its default filled in, entropy weights per indicator and pillar, PCA loadings, translog coefficients).

        Examples:
        coretech indicators --example-spec spec.toml
        coretech indicators panel.csv --spec spec.toml --out panel_indicators.csv
        """
        from coretech.errors import InputError

        if example_spec is not None:
            from importlib import resources

            from coretech.io import atomic_write_bytes

            data = (resources.files("coretech") / "data" / "indicators_example.toml").read_bytes()
            atomic_write_bytes(example_spec, data)
            typer.echo(f"wrote {example_spec}: edit it, then run "
                       f"coretech indicators PANEL --spec {example_spec} --out FILE")
            return
        missing = [n for n, v in (("PANEL", panel), ("--spec", spec), ("--out", out)) if v is None]
        if missing:
            raise InputError(f"coretech indicators needs {', '.join(missing)} "
                             "(or --example-spec FILE to start a spec)")
        from coretech.indicators.run import run_indicators
        from coretech.provenance import meta_path

        rec = run_indicators(panel, spec=spec, out=out)
        cols = rec["outputs"]["columns"]
        typer.echo(f"wrote {out} ({rec['counts']['rows']} rows; new columns: {', '.join(cols)})")
        res = rec.get("results", {})
        if "nycives" in res:
            for name, w in res["nycives"]["pillars"].get("level1", {}).items():
                typer.echo(f"  Nycives pillar weight {name}: {w:.4f}")
        if "actros" in res:
            m = res["actros"]["model"]
            typer.echo(f"  Actros: translog fe={m['fe']}, R2={m['rsquared']:.4f}, "
                       f"transform={m['transform']}, negative tau: "
                       f"{res['actros']['n_negative_tau']}")
        for key, vals in rec["counts"].items():
            if isinstance(vals, dict) and any(vals.values()):
                typer.echo(f"  {key}: " + ", ".join(f"{k} {v}" for k, v in vals.items() if v))
        typer.echo(f"provenance: {meta_path(out)}")
