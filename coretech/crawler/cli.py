"""``coretech ipc fetch``: crawl WIPO master files or CNIPA's Chinese PDFs into a scheme table."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def register(app: typer.Typer, ipc_app: typer.Typer) -> None:
    """Add ``fetch`` to ``coretech ipc``."""

    @ipc_app.command("fetch")
    def fetch_cmd(
        source: str = typer.Option(..., "--source", help="wipo (master-file XML) or cnipa (Chinese PDFs)."),
        out: Path = typer.Option(..., "--out", help="Scheme table to write (.parquet, .csv, .tsv, .xlsx); downloaded files go beside it."),
        edition: str = typer.Option(None, "--edition", help="IPC edition, e.g. 2026.01 (wipo: required; cnipa: keep only links of this edition)."),
        base_url: str = typer.Option(None, "--base-url", help="WIPO download area (default https://www.wipo.int/classifications/data/ipc/ITSupport_and_download_area; older editions: https://www.wipo.int/ipc/itos4ipc/ITSupport_and_download_area)."),
        index_url: str = typer.Option(None, "--index-url", help="cnipa: the page that links the per-section PDFs ('2026.01版IPC分类表-A部.pdf')."),
        catchwords: bool = typer.Option(False, "--catchwords", help="wipo: also fetch the catchword index."),
        concordance: bool = typer.Option(False, "--concordance", help="wipo: also fetch the concordance list to the previous edition (its XML is extracted beside the output)."),
        scheme_file: str = typer.Option("MasterFiles/ipc_scheme_{date}.zip", "--scheme-file", help="wipo: path of the scheme zip under <base>/<YYYYMMDD>/ ({date} is the edition's YYYYMMDD)."),
        catchword_file: str = typer.Option("MasterFiles/ipc_catchwordindex_{date}.zip", "--catchword-file", help="wipo: path of the catchword index under <base>/<YYYYMMDD>/."),
        concordance_file: str = typer.Option("MasterFiles/ipc_concordancelist_{date}.zip", "--concordance-file", help="wipo: path of the concordance list under <base>/<YYYYMMDD>/."),
        sections: str = typer.Option("ABCDEFGH", "--sections", help="cnipa: sections to fetch, e.g. AB."),
        cache: Path = typer.Option(None, "--cache", help="HTTP cache folder: responses are stored and replayed (offline re-runs)."),
        resume: Path = typer.Option(None, "--resume", help="Job folder: a killed crawl re-run with the same folder continues where it stopped."),
        contact: str = typer.Option(None, "--contact", help="E-mail or URL put in the User-Agent so site operators can reach you."),
        delay: float = typer.Option(2.0, "--delay", help="Seconds between requests to one host (AutoThrottle's starting delay)."),
        timeout: float = typer.Option(60.0, "--timeout", help="Seconds before a request times out (then it is retried)."),
        retries: int = typer.Option(3, "--retries", help="Retries of a request that fails (5xx, 429, timeout, truncated body)."),
        no_throttle: bool = typer.Option(False, "--no-throttle", help="No delays and no AutoThrottle: for a local server only (tests, benchmarks)."),
        partial: bool = typer.Option(False, "--partial", help="Write the valid part of the table even when something failed (exit code stays 1)."),
        log_level: str = typer.Option("WARNING", "--log-level", help="Scrapy log level (DEBUG shows every request and retry)."),
    ) -> None:
        """Crawl IPC descriptions into a scheme table (one crawl per process, politely).

        WIPO: downloads <base>/<YYYYMMDD>/MasterFiles/ipc_scheme_<YYYYMMDD>.zip and reads it with
        the same reader as `coretech ipc load`. CNIPA: follows the index page's links to the
        section PDFs and reads their lines (Chinese titles with dot depth). Retries 5xx, 429,
        timeouts and truncated bodies; obeys robots.txt; exits 1 listing what stayed broken or
        failed validation, 130 when interrupted (continue with the same --resume folder).

        Examples:
        coretech ipc fetch --source wipo --edition 2026.01 --out ipc_2026.parquet
        coretech ipc fetch --source cnipa --index-url URL --out ipc_zh.parquet
        """
        from coretech.crawler.fetch import format_summary, run_fetch

        summary = run_fetch(
            source, out=out, edition=edition, base_url=base_url, index_url=index_url,
            catchwords=catchwords, concordance=concordance, scheme_file=scheme_file,
            catchword_file=catchword_file, concordance_file=concordance_file,
            sections=sections, cache=cache, resume=resume, contact=contact, delay=delay,
            timeout=timeout, retries=retries, throttle=not no_throttle, partial=partial,
            log_level=log_level.upper(),
        )
        for line in format_summary(summary):
            print(line, file=sys.stderr)
        if summary["exit_code"]:
            raise typer.Exit(summary["exit_code"])
