"""One crawl in its own process: ``python -m coretech.crawler.run <job>/crawl.json``.

Scrapy's Twisted reactor cannot be restarted inside a process (ReactorNotRestartable), so
:func:`coretech.crawler.fetch.run_fetch` starts this module as a subprocess for every crawl.
It runs the spider, assembles the table from the job's item store, writes the output (only
when nothing failed, unless ``partial``), writes the summary JSON and exits with

* 0 -- every file fetched and valid, output written;
* 1 -- something stayed broken or failed validation (listed in the summary);
* 130 -- interrupted (a signal): resume with the same ``--resume DIR``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from coretech.crawler.settings import CrawlOptions, scrapy_settings
from coretech.crawler.store import ItemStore, assemble, entries_frame

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130
#: Options that change what is fetched (a resumed job must match them).
CONTENT_OPTIONS = (
    "source", "edition", "base_url", "index_url", "catchwords", "concordance",
    "scheme_file", "catchword_file", "concordance_file", "sections",
)
STAT_KEYS = {
    "requests": "downloader/request_count",
    "responses": "downloader/response_count",
    "bytes": "downloader/response_bytes",
    "retries": "retry/count",
    "retries_given_up": "retry/max_reached",
    "cache_hits": "httpcache/hit",
    "cache_misses": "httpcache/miss",
    "robots_forbidden": "robotstxt/forbidden",
    "corrupt_bodies": "coretech/corrupt_body",
    "skipped_stored": "coretech/skipped_stored",
    "joined_pdf_lines": "coretech/joined_lines",
}


def run_crawl(opts: CrawlOptions) -> dict[str, Any]:
    """Run the crawl in this process (once per process) and finish it; returns the summary."""
    from scrapy.crawler import CrawlerProcess

    from coretech.crawler.spiders import SPIDERS

    t0 = time.monotonic()
    job = Path(opts.job_dir)
    running = job / "crawl.running"
    if running.exists():
        # the last run was killed (no clean stop): Scrapy's on-disk request queue may be stale
        # or torn; the pending files are derived again from coretech's item store instead
        shutil.rmtree(job / "scrapy" / "requests.queue", ignore_errors=True)
        print("[coretech fetch] the last run of this job was killed; resuming from its "
              "stored items", file=sys.stderr, flush=True)
    job.mkdir(parents=True, exist_ok=True)
    running.write_text(str(os.getpid()), encoding="utf-8")
    process = CrawlerProcess(scrapy_settings(opts))
    # a robots.txt that cannot be fetched is logged with a full traceback; one line is enough
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").addFilter(_one_line)
    crawler = process.create_crawler(SPIDERS[opts.source])
    process.crawl(crawler, opts=asdict(opts))
    process.start()
    running.unlink(missing_ok=True)
    elapsed = time.monotonic() - t0
    stats = crawler.stats.get_stats() if crawler.stats else {}
    spider = crawler.spider
    expected = list(getattr(spider, "expected_pages", []) or [])
    return finish(opts, stats, expected, elapsed)


def _one_line(record: logging.LogRecord) -> bool:
    record.exc_info = None
    record.exc_text = None
    return True


def finish(
    opts: CrawlOptions, stats: dict[str, Any], expected: list[str], elapsed: float
) -> dict[str, Any]:
    """Assemble the table from the store, write the outputs and the summary."""
    items, torn = ItemStore(opts.job_dir).records()
    a = assemble(items, torn)
    for page in a.done.values():
        for link in page.links:
            if link not in expected:
                expected.append(link)
    reason = str(stats.get("finish_reason", "unknown"))
    # stopped by a signal: interrupted unless every expected file was stored before it stopped
    interrupted = reason != "finished" and (
        not expected or any(u not in a.done for u in expected)
    )
    failures: list[dict[str, Any]] = []
    validation: list[dict[str, Any]] = []
    for p in a.problems:
        rec = {"url": p.url, "kind": p.kind, "message": p.message}
        if p.line_no is not None:
            rec["line"] = p.line_no
        if p.kind == "validation":
            validation.append(rec)
        elif p.url not in a.done:
            failures.append(rec)
    failed_urls = {f["url"] for f in failures}
    for url in expected:
        if url not in a.done and url not in failed_urls:
            failures.append(
                {"url": url, "kind": "not_fetched",
                 "message": "not fetched (the crawl stopped before it)"}
            )
    df = entries_frame(a.entries)
    ok = not failures and not validation and not interrupted
    written: dict[str, Any] | None = None
    if ok or (opts.partial and not interrupted):
        written = write_outputs(opts, a, df)
    pages_done = sum(1 for u in expected if u in a.done)
    pdf_pages = sum(p.pdf_pages for p in a.done.values())
    counts = {k: int(stats.get(v, 0) or 0) for k, v in STAT_KEYS.items()}
    summary: dict[str, Any] = {
        "source": opts.source,
        "out": str(opts.out) if written else None,
        "job_dir": str(opts.job_dir),
        "finish_reason": reason,
        "interrupted": interrupted,
        "pages_expected": len(expected),
        "pages_done": pages_done,
        "pages_skipped_as_stored": int(stats.get("coretech/skipped_stored", 0) or 0),
        "pdf_pages": pdf_pages,
        "entries": len(df),
        "duplicates_dropped": a.duplicates,
        "torn_store_lines": a.torn_lines,
        **counts,
        "failures": failures,
        "validation_problems": validation,
        "elapsed_s": round(elapsed, 3),
        "outputs": written,
    }
    summary["exit_code"] = (
        EXIT_INTERRUPTED if interrupted else EXIT_OK if ok else EXIT_FAILED
    )
    from coretech.io import write_json

    write_json(opts.summary_path, summary)
    return summary


def write_outputs(opts: CrawlOptions, a: Any, df: Any) -> dict[str, Any]:
    """Write the scheme table (atomic) with its provenance, and the downloaded files beside it."""
    from coretech.io import atomic_write_bytes
    from coretech.ipc.scheme import write_scheme
    from coretech.provenance import provenance

    out = Path(opts.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    files_dir = Path(opts.job_dir) / "files"
    kept: dict[str, str] = {}
    urls: dict[str, str] = {}
    for f in a.files:
        src = files_dir / f.filename
        dest = out.parent / f.filename
        if src.resolve() != dest.resolve():
            atomic_write_bytes(dest, src.read_bytes())
        kept[f"{f.role}:{f.filename}"] = str(dest)
        urls[f.filename] = f.url
        if f.role == "concordance" and zipfile.is_zipfile(dest):
            with zipfile.ZipFile(dest) as zf:
                for member in sorted(zf.namelist()):
                    if member.lower().endswith(".xml") and "/" not in member.strip("/"):
                        xml_dest = out.parent / member
                        atomic_write_bytes(xml_dest, zf.read(member))
                        kept[f"concordance_xml:{member}"] = str(xml_dest)
    options = {
        k: v for k, v in asdict(opts).items()
        if k not in ("out", "job_dir", "summary_path", "extra_settings", "log_level")
    }
    n_validation = sum(1 for p in a.problems if p.kind == "validation")
    rec = provenance(
        stage="ipc fetch",
        inputs=kept,
        options=options,
        counts={
            "entries": len(df),
            "files": len(a.files),
            "pdf_pages": sum(p.pdf_pages for p in a.done.values()),
            "validation_problems": n_validation,
        },
        urls=urls,
        complete=n_validation == 0,
    )
    rec = write_scheme(df, out, provenance_record=rec)
    return {"scheme": str(out), "files": kept}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m coretech.crawler.run JOB/crawl.json", file=sys.stderr)
        return 2
    cfg = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    opts = CrawlOptions(**cfg)
    summary = run_crawl(opts)
    return int(summary["exit_code"])


if __name__ == "__main__":
    sys.exit(main())
