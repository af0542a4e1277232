"""``coretech ipc fetch`` against a real HTTP server on 127.0.0.1 (no internet).

Every crawl runs in its own process, as users run it. Faults are injected through the same
server: 503/429 that recover, a timeout, a truncated body, a corrupt zip, a URL that stays
broken, robots.txt, a line outside its section, a kill midway and a resume, a cache replay.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from crawlsite import CNIPA_LINES, DATE, EDITION, cnipa_path, make_site, pdf_name
from pdf_fixture import cnipa_pdf

from coretech.crawler.fetch import format_summary, run_fetch
from coretech.ipc.readers.load import load_sources
from coretech.ipc.scheme import read_scheme

SCHEME_PATH = f"/{DATE}/MasterFiles/ipc_scheme_{DATE}.zip"
FAST = {"throttle": False, "timeout": 5.0, "retries": 3}


def fetch_cli(*args: str, **popen) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "coretech.cli", "ipc", "fetch", *args, "--no-throttle"],
        capture_output=True, text=True, timeout=120, **popen,
    )


def without_source(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["source"]).reset_index(drop=True)


def cnipa(site, out: Path, **kw) -> dict:
    return run_fetch("cnipa", out=out, index_url=site.url("/cnipa/index.html"), **{**FAST, **kw})


# --------------------------------------------------------------------------- WIPO
def test_wipo_fetch_agrees_with_the_spine_reader(site, scheme_zip, tmp_path):
    out = tmp_path / "out" / "ipc_en.parquet"
    r = fetch_cli("--source", "wipo", "--edition", EDITION, "--base-url", site.base,
                  "--out", str(out), "--catchwords", "--concordance",
                  "--contact", "economist@uni.example")
    assert r.returncode == 0, r.stderr
    fetched = read_scheme(out)
    local = tmp_path / f"ipc_scheme_{DATE}.zip"
    local.write_bytes(scheme_zip)
    expected = load_sources([local]).table
    assert len(fetched) == len(expected) >= 10
    pd.testing.assert_frame_equal(without_source(fetched), without_source(expected))
    assert fetched["source"].str.startswith(site.url(SCHEME_PATH)).all()
    assert set(fetched["kind"]) == {"section", "class", "subclass", "main_group", "subgroup"}
    assert fetched["depth"].max() >= 2  # true dot levels from the XML
    # the downloaded files sit beside the output; the concordance XML is extracted
    for name in (f"ipc_scheme_{DATE}.zip", f"ipc_catchwordindex_{DATE}.zip",
                 f"ipc_concordancelist_{DATE}.zip", f"ipc_concordancelist_{DATE}.xml"):
        assert (out.parent / name).is_file(), name
    assert (out.parent / f"ipc_scheme_{DATE}.zip").read_bytes() == scheme_zip
    meta = json.loads((out.parent / "ipc_en.meta.json").read_text())
    assert meta["stage"] == "ipc fetch"
    conc = meta["inputs"][f"concordance_xml:ipc_concordancelist_{DATE}.xml"]
    assert conc["path"] == str(out.parent / f"ipc_concordancelist_{DATE}.xml")
    assert meta["urls"][f"ipc_scheme_{DATE}.zip"] == site.url(SCHEME_PATH)
    # polite: identifying user agent with the contact; robots.txt asked first
    assert site.log[0] == ("/robots.txt", 200)
    assert all("coretech/" in ua and "economist@uni.example" in ua for ua in site.user_agents)
    assert "3/3 files fetched" in r.stderr and "wrote" in r.stderr


def test_503_then_truncated_then_corrupt_zip_recovers_with_retries(site, tmp_path):
    site.fault(SCHEME_PATH, "503", "truncate", "corrupt", "429")
    s = run_fetch("wipo", out=tmp_path / "ipc.csv", edition=EDITION, base_url=site.base,
                  **{**FAST, "retries": 4})
    assert s["exit_code"] == 0, s
    assert s["retries"] == 4
    assert s["corrupt_bodies"] == 1
    assert [st for p, st in site.log if p == SCHEME_PATH] == ["503", "truncate", "corrupt", "429", 200]
    assert read_scheme(tmp_path / "ipc.csv")["depth"].max() >= 2


def test_wipo_url_that_stays_broken_is_listed_and_exits_nonzero(site, tmp_path):
    site.break_forever(SCHEME_PATH, 503)
    out = tmp_path / "ipc.csv"
    s = run_fetch("wipo", out=out, edition=EDITION, base_url=site.base, **{**FAST, "retries": 2})
    assert s["exit_code"] == 1
    text = "\n".join(format_summary(s))
    assert "FAILED (1)" in text and "HTTP 503 (after 2 retries)" in text
    assert site.url(SCHEME_PATH) in text and "no output written" in text
    assert site.hits(SCHEME_PATH) == 3
    assert not out.exists()
    assert Path(s["job_dir"], "items.jsonl").is_file()  # kept, to --resume


# --------------------------------------------------------------------------- CNIPA
@pytest.fixture(scope="module")
def reference_zh(scheme_zip, cnipa_pdfs, tmp_path_factory):
    """One clean CNIPA crawl: (summary, output path, server log)."""
    out = tmp_path_factory.mktemp("ref") / "ipc_zh.csv"
    with make_site(scheme_zip, cnipa_pdfs) as srv:
        s = cnipa(srv, out)
        log = list(srv.log)
    return s, out, log


def test_cnipa_pdfs_read_back_like_the_spine_reader(reference_zh, tmp_path):
    s, out, log = reference_zh
    assert s["exit_code"] == 0, s
    assert (s["pages_done"], s["pdf_pages"], s["entries"]) == (4, 4, 17)
    fetched = read_scheme(out)
    # the same lines as text files, read by `coretech ipc load`'s reader
    texts = []
    for sec, lines in CNIPA_LINES.items():
        p = tmp_path / f"{sec}.txt"
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        texts.append(p)
    expected = load_sources(texts, edition=EDITION).table
    pd.testing.assert_frame_equal(without_source(fetched), without_source(expected))
    by = fetched.set_index("code")
    assert by.loc["A01B1/02", "title"] == "锹；铲"
    assert (by.loc["A01B1/04", "depth"], by.loc["A01B1/04", "parent"]) == (2, "A01B1/02")
    assert by.loc["A01B1/00", "references"] == "A01G3/06"
    assert set(by["lang"]) == {"zh"}
    for sec in "ABCD":  # PDFs kept under their CNIPA names (showname of download links)
        assert (out.parent / pdf_name(sec)).is_file()
    assert "/cnipa/notice.html" not in {p for p, _ in log}


def test_cnipa_recovers_from_503_timeout_and_truncated_pdf(site, tmp_path):
    site.fault(cnipa_path("A"), "503", "503")
    site.fault(cnipa_path("B"), "timeout")
    site.fault(cnipa_path("C"), "truncate")
    site.fault("/cnipa/index.html", "502")
    site.timeout_sleep = 3.0
    s = cnipa(site, tmp_path / "zh.csv", timeout=1.0)
    assert s["exit_code"] == 0, s
    assert s["retries"] == 5
    assert s["entries"] == 17 and not s["failures"]
    assert site.hits(cnipa_path("B")) == 2


def test_line_outside_its_section_and_depth_jump_fail_validation(scheme_zip, cnipa_pdfs, tmp_path):
    bad = dict(cnipa_pdfs)
    bad["B"] = cnipa_pdf([*CNIPA_LINES["B"], "A01B9/00          播种机[2006.01]"])
    bad["C"] = cnipa_pdf([*CNIPA_LINES["C"], "C01B3/04   . . .   用电解法[2006.01]"])
    out = tmp_path / "zh.csv"
    with make_site(scheme_zip, bad) as srv:
        s = cnipa(srv, out, partial=True)
    assert s["exit_code"] == 1
    text = "\n".join(format_summary(s))
    assert "VALIDATION PROBLEMS (2)" in text
    assert "A01B9/00 is outside section B, which this file holds" in text
    assert "C01B3/04 has depth 3 after an entry of depth 1 in C01B3/00" in text
    assert pdf_name("B") in text and pdf_name("C") in text
    # --partial: the valid rows are written, the misfiled one is not; the exit code stays 1
    table = read_scheme(out)
    assert "A01B9/00" not in set(table["code"]) and "C01B3/04" in set(table["code"])
    assert len(table) == 18
    meta = json.loads(out.with_name("zh.meta.json").read_text())
    assert meta["complete"] is False and meta["counts"]["validation_problems"] == 2


def test_robots_disallow_and_a_broken_link_are_listed(scheme_zip, cnipa_pdfs, tmp_path):
    with make_site(scheme_zip, cnipa_pdfs, robots_private=True) as srv:
        srv.break_forever(cnipa_path("C"), 404)
        s = cnipa(srv, tmp_path / "zh.csv")
        assert srv.hits(cnipa_path("D", robots_private=True)) == 0  # never asked for
        assert srv.hits(cnipa_path("C")) == 1  # a 404 is not retried
    assert s["exit_code"] == 1 and s["robots_forbidden"] == 1
    got = sorted((f["url"].rsplit("/", 1)[-1], f["message"]) for f in s["failures"])
    assert got == [
        (pdf_name("C"), "HTTP 404"),
        (pdf_name("D"), "forbidden by robots.txt (not fetched)"),
    ]
    assert not (tmp_path / "zh.csv").exists()


# --------------------------------------------------------------------------- resume, cache
def _done_pages(job: Path) -> int:
    p = job / "items.jsonl"
    if not p.exists():
        return 0
    return sum(1 for ln in p.read_text(encoding="utf-8").splitlines()
               if '"t": "PageDone"' in ln and '"links": []' in ln)


def test_kill_midway_and_resume_gives_the_uninterrupted_table(site, reference_zh, tmp_path):
    ref = reference_zh[1]
    site.delay = 0.4
    job, out = tmp_path / "job", tmp_path / "zh.csv"
    args = ["--source", "cnipa", "--index-url", site.url("/cnipa/index.html"),
            "--out", str(out), "--resume", str(job)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "coretech.cli", "ipc", "fetch", *args, "--no-throttle"],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while _done_pages(job) < 1 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its crawl process, no clean shutdown
    proc.wait()
    before = _done_pages(job)
    assert 1 <= before < 4, "the crawl should have been killed midway"
    assert not out.exists()
    assert (job / "crawl.running").exists()  # no clean stop: Scrapy's queue is not trusted
    site.delay = 0.0
    done_before = {json.loads(ln)["url"] for ln in (job / "items.jsonl").read_text().splitlines()
                   if '"t": "PageDone"' in ln and '"links": []' in ln}
    n_log = len(site.log)
    s = cnipa(site, out, resume=job)
    assert s["exit_code"] == 0, s
    a, b = read_scheme(out), read_scheme(ref)
    pd.testing.assert_frame_equal(without_source(a), without_source(b))  # other port
    assert not a.duplicated(["code", "lang"]).any()
    assert s["pages_expected"] == 4 and s["pages_done"] == 4 and s["job_dir"] == str(job)
    assert not (job / "crawl.running").exists()
    # the resumed crawl fetched only the pages not stored before the kill
    fetched_after = [p for p, st in site.log[n_log:] if p.endswith(".pdf")]
    assert len(fetched_after) == 4 - before
    assert not {site.url(p) for p in fetched_after} & {site.url(u[len(site.base):]) for u in done_before}


def test_cache_replay_offline_is_byte_identical(scheme_zip, cnipa_pdfs, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "zh.parquet"
    with make_site(scheme_zip, cnipa_pdfs) as srv:
        srv.fault(cnipa_path("A"), "503")  # errors are not cached
        s1 = cnipa(srv, out, cache=cache)
        index = srv.url("/cnipa/index.html")
    assert s1["exit_code"] == 0 and s1["cache_misses"] > 0
    first = out.read_bytes(), out.with_name("zh.meta.json").read_bytes()
    out.unlink()
    # the server is gone: everything comes from the cache
    s2 = run_fetch("cnipa", out=out, index_url=index, cache=cache, **FAST)
    assert s2["exit_code"] == 0, s2
    assert s2["cache_hits"] == s2["requests"] and s2["retries"] == 0
    assert (out.read_bytes(), out.with_name("zh.meta.json").read_bytes()) == first


# --------------------------------------------------------------------------- options
def test_politeness_defaults():
    from coretech.crawler.settings import CrawlOptions, scrapy_settings, user_agent

    s = scrapy_settings(CrawlOptions(source="wipo", out="o.csv", job_dir="j", summary_path="s",
                                     contact="me@uni.example"))
    assert s["ROBOTSTXT_OBEY"] is True and s["AUTOTHROTTLE_ENABLED"] is True
    assert s["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1 and s["DOWNLOAD_DELAY"] == 2.0
    assert s["USER_AGENT"].startswith("coretech/") and "mailto:me@uni.example" in s["USER_AGENT"]
    assert {429, 503, 408}.issubset(s["RETRY_HTTP_CODES"]) and s["RETRY_TIMES"] == 3
    assert "HTTPCACHE_ENABLED" not in s
    fast = scrapy_settings(CrawlOptions(source="wipo", out="o", job_dir="j", summary_path="s",
                                        throttle=False, cache_dir="c"))
    assert fast["AUTOTHROTTLE_ENABLED"] is False and fast["DOWNLOAD_DELAY"] == 0.0
    assert fast["HTTPCACHE_ENABLED"] and 503 in fast["HTTPCACHE_IGNORE_HTTP_CODES"]
    assert "https://" in user_agent(None)


def test_bad_option_exits_2_with_a_clear_error(tmp_path):
    r = fetch_cli("--source", "wipo", "--edition", "2026-1", "--out", "x.csv", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("error:") and "must read like 2026.01" in r.stderr


def test_throttled_crawl_spaces_its_requests(site, tmp_path):
    """The polite defaults at work (delay shortened to 0.4 s): one request at a time, spaced."""
    s = run_fetch("wipo", out=tmp_path / "ipc.csv", edition=EDITION, base_url=site.base,
                  catchwords=True, concordance=True, delay=0.4, timeout=5.0)
    assert s["exit_code"] == 0, s
    files = [t for (p, _), t in zip(site.log, site.arrivals, strict=True) if p != "/robots.txt"]
    assert len(files) == 3
    gaps = [b - a for a, b in zip(files, files[1:], strict=False)]
    assert min(gaps) >= 0.4 * 0.5  # DOWNLOAD_DELAY with at most -50% jitter


@pytest.mark.parametrize(
    ("source", "kw", "message"),
    [
        ("wipo", {}, "needs --edition"),
        ("wipo", {"edition": "2026.13"}, "month must be 01-12"),
        ("cnipa", {}, "needs --index-url"),
        ("cnipa", {"index_url": "file:///etc/passwd"}, "must be an http"),
        ("ftp", {}, "must be wipo or cnipa"),
        ("wipo", {"edition": "2026.01", "out": "x.json"}, "x.json"),
        ("cnipa", {"index_url": "http://h/i", "sections": "AZ"}, "letters A-H"),
    ],
)
def test_bad_options_are_refused_before_any_request(source, kw, message, tmp_path):
    from coretech.errors import InputError

    kw = {"out": tmp_path / "x.csv", **kw}
    with pytest.raises(InputError, match=message.replace(".", r"\.").replace("(", r"\(")):
        run_fetch(source, **kw)
    assert list(tmp_path.iterdir()) == []


def test_resume_folder_of_another_crawl_is_refused(tmp_path):
    from coretech.crawler.fetch import _check_job
    from coretech.crawler.settings import CrawlOptions
    from coretech.errors import InputError

    job = tmp_path / "job"
    job.mkdir()
    first = CrawlOptions(source="wipo", out="a.csv", job_dir=str(job), summary_path="s",
                         edition="2026.01")
    _check_job(job, first)
    _check_job(job, first)  # the same crawl again: fine
    other = CrawlOptions(source="wipo", out="a.csv", job_dir=str(job), summary_path="s",
                         edition="2025.01")
    with pytest.raises(InputError, match="holds a different crawl.*edition: '2026.01' there"):
        _check_job(job, other)
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "x.txt").write_text("mine")
    with pytest.raises(InputError, match="not made by coretech"):
        _check_job(stranger, first)
