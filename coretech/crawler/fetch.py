"""``run_fetch``: validate the options, run the crawl in its own process, relay its summary."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from coretech.crawler.run import CONTENT_OPTIONS, EXIT_OK
from coretech.crawler.settings import (
    DEFAULT_DELAY,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    CrawlOptions,
)
from coretech.errors import InputError

OUT_SUFFIXES = (".parquet", ".csv", ".tsv", ".xlsx")


def _check_url(url: str, option: str) -> str:
    p = urlparse(url)
    if p.scheme not in ("http", "https") or not p.netloc:
        raise InputError(f"{option} must be an http(s) URL, got {url!r}")
    return url


def run_fetch(
    source: str,
    *,
    out: str | Path,
    edition: str | None = None,
    base_url: str | None = None,
    index_url: str | None = None,
    catchwords: bool = False,
    concordance: bool = False,
    scheme_file: str = "MasterFiles/ipc_scheme_{date}.zip",
    catchword_file: str = "MasterFiles/ipc_catchwordindex_{date}.zip",
    concordance_file: str = "MasterFiles/ipc_concordancelist_{date}.zip",
    cache: str | Path | None = None,
    resume: str | Path | None = None,
    throttle: bool = True,
    delay: float = DEFAULT_DELAY,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    contact: str | None = None,
    partial: bool = False,
    sections: str = "ABCDEFGH",
    log_level: str = "WARNING",
    extra_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Crawl WIPO's master files or CNIPA's section PDFs into an IPC scheme table at ``out``.

    The crawl runs in a subprocess (``python -m coretech.crawler.run``); its stderr (progress,
    warnings) passes through. Returns the summary: pages, entries, requests, retries,
    failures, validation problems, ``exit_code`` (0 ok, 1 failed/invalid, 130 interrupted)
    and ``outputs``. Bad options raise :class:`InputError` before anything is fetched.
    """
    from coretech.crawler.spiders.wipo import edition_date

    source = source.lower().strip()
    if source not in ("wipo", "cnipa"):
        raise InputError(f"--source must be wipo or cnipa, got {source!r}")
    out = Path(out)
    if out.suffix.lower() not in OUT_SUFFIXES:
        raise InputError(
            f"the output must end in {', '.join(OUT_SUFFIXES)}, got {out.name!r}", file=out
        )
    if source == "wipo":
        if not edition:
            raise InputError("--source wipo needs --edition (e.g. 2026.01)")
        edition_date(edition)
        if base_url:
            _check_url(base_url, "--base-url")
        for tpl, opt in ((scheme_file, "--scheme-file"), (catchword_file, "--catchword-file"),
                         (concordance_file, "--concordance-file")):
            if "{date}" not in tpl:
                raise InputError(f"{opt} must contain {{date}}, got {tpl!r}")
    else:
        if not index_url:
            raise InputError("--source cnipa needs --index-url (the page linking the PDFs)")
        _check_url(index_url, "--index-url")
        if edition:
            edition = f"{edition_date(edition)[:4]}.{edition_date(edition)[4:6]}"
    sections = "".join(sorted(set(sections.upper())))
    if not sections or set(sections) - set("ABCDEFGH"):
        raise InputError(f"--sections must be letters A-H, got {sections!r}")
    if timeout <= 0 or delay < 0 or retries < 0:
        raise InputError("--timeout must be > 0, --delay >= 0 and --retries >= 0")

    temp_job = resume is None
    if temp_job:
        out.parent.mkdir(parents=True, exist_ok=True)
        job_dir = Path(tempfile.mkdtemp(prefix=f".{out.name}.crawl-", dir=out.parent))
    else:
        job_dir = Path(resume)
        job_dir.mkdir(parents=True, exist_ok=True)
    opts = CrawlOptions(
        source=source, out=str(out.resolve()), job_dir=str(job_dir.resolve()),
        summary_path=str((job_dir / "summary.json").resolve()), edition=edition,
        base_url=base_url, index_url=index_url, catchwords=catchwords, concordance=concordance,
        scheme_file=scheme_file, catchword_file=catchword_file,
        concordance_file=concordance_file,
        cache_dir=None if cache is None else str(Path(cache).resolve()),
        resume=not temp_job, throttle=throttle, delay=delay, timeout=timeout, retries=retries,
        contact=contact, partial=partial, sections=sections, log_level=log_level,
        extra_settings=dict(extra_settings or {}),
    )
    _check_job(job_dir, opts)
    cfg = job_dir / "crawl.json"
    cfg.write_text(json.dumps(asdict(opts), indent=2, sort_keys=True), encoding="utf-8")
    summary_path = Path(opts.summary_path)
    if summary_path.exists():
        summary_path.unlink()

    cmd = [sys.executable, "-m", "coretech.crawler.run", str(cfg)]
    code = _run_child(cmd)
    if summary_path.exists():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    else:
        summary = {
            "exit_code": code if code > 0 else 128 - code,
            "failures": [{"url": "", "kind": "crashed",
                          "message": f"the crawl process ended with status {code}"}],
            "validation_problems": [],
            "job_dir": str(job_dir),
        }
    summary["exit_code"] = int(summary.get("exit_code", code))
    if temp_job and summary["exit_code"] == EXIT_OK:
        shutil.rmtree(job_dir, ignore_errors=True)
        summary["job_dir"] = None
    return summary


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the crawl gets SIGKILL when the process that started it dies (kill -9)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run_child(cmd: list[str]) -> int:
    """Run the crawl process; relay Ctrl-C / SIGTERM to it once (it then stops gracefully).

    The child has its own session, so a signal to the terminal's process group reaches it
    only through this relay (Scrapy treats a second signal as "stop now, uncleanly").
    """
    proc = subprocess.Popen(
        cmd, start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
    )
    relayed = False

    def relay(signum: int, _frame: Any) -> None:
        nonlocal relayed
        if not relayed and proc.poll() is None:
            relayed = True
            proc.send_signal(signum)

    old: dict[int, Any] = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                old[sig] = signal.signal(sig, relay)
            except ValueError:  # not the main thread: no relay
                pass
        return proc.wait()
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _check_job(job_dir: Path, opts: CrawlOptions) -> None:
    """A resumed job must be the same crawl: compare the options that change the content."""
    marker = job_dir / "job.json"
    mine = {k: getattr(opts, k) for k in CONTENT_OPTIONS}
    if marker.exists():
        theirs = json.loads(marker.read_text(encoding="utf-8"))
        diff = sorted(k for k in mine if theirs.get(k) != mine[k])
        if diff:
            raise InputError(
                "this --resume folder holds a different crawl (it differs in "
                + ", ".join(f"{k}: {theirs.get(k)!r} there, {mine[k]!r} now" for k in diff)
                + "); use a new folder",
                file=job_dir,
            )
    else:
        if any(job_dir.iterdir()):
            raise InputError(
                "the --resume folder is not empty and was not made by coretech ipc fetch",
                file=job_dir,
            )
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(mine, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, marker)


def format_summary(summary: dict[str, Any], limit: int = 20) -> list[str]:
    """Lines of the end-of-crawl summary for the terminal."""
    s = summary
    lines = [
        f"fetch {s.get('source', '')}: {s.get('pages_done', 0)}/{s.get('pages_expected', 0)} "
        f"files, {s.get('pdf_pages', 0)} PDF pages, {s.get('entries', 0)} entries; "
        f"{s.get('requests', 0)} requests, {s.get('retries', 0)} retries, "
        f"{s.get('cache_hits', 0)} from cache, {s.get('elapsed_s', 0)}s",
    ]
    fails = s.get("failures") or []
    val = s.get("validation_problems") or []
    if fails:
        lines.append(f"FAILED ({len(fails)}):")
        lines += [f"  {f['url']}: {f['message']}" for f in fails[:limit]]
    if val:
        lines.append(f"VALIDATION PROBLEMS ({len(val)}):")
        lines += [f"  {v['url']}: {v['message']}" for v in val[:limit]]
        if len(val) > limit:
            lines.append(f"  ... and {len(val) - limit} more (see {s.get('job_dir')}/summary.json)")
    if s.get("interrupted"):
        lines.append(
            f"interrupted ({s.get('finish_reason')}); continue with --resume {s.get('job_dir')}"
        )
    if s.get("out"):
        lines.append(f"wrote {s['out']}")
    elif s.get("exit_code"):
        hint = f" (items kept in {s.get('job_dir')}; rerun with --resume {s.get('job_dir')})"
        lines.append("no output written: the crawl is incomplete or invalid"
                     + (hint if s.get("job_dir") else "") + "; --partial writes what is valid")
    return lines
