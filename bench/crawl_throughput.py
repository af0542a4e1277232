"""Crawl throughput against a local server (throttling off), and a kill-and-resume run.

    .venv/bin/python bench/crawl_throughput.py [--lines 1500] [--sections ABCDEFGH] [--wipo-entries 20000]

Prints, for a CNIPA crawl of generated section PDFs (Chinese text, STSong-Light) and a WIPO
crawl of a generated master-file zip: wall time, PDF pages/s, entries/s, requests/s, and the
ratio to a baseline in the same run (the same files read in-process without Scrapy or HTTP:
pdfplumber + parse_cnipa_lines, read_wipo_xml). Then kills a crawl midway (SIGKILL to the
process group while the server answers slowly), resumes it with the same --resume folder and
reports whether the table equals the uninterrupted crawl's and how many files were fetched
again. The figures are machine-dependent: quote them with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from coretech.crawler.fetch import run_fetch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "crawler"))
from pdf_fixture import cnipa_pdf  # noqa: E402 - the test PDF builder (reportlab, [test] extra)

from coretech.crawler.localserver import FixtureServer, index_html, wipo_zip  # noqa: E402

TITLES = "锹铲带齿的锄手动中耕机犁铧固定人力分离蒸发锅炉盘加热蒸汽非金属元素化合物氢混合气制备纤维机械植物原料"


def cnipa_lines(section: str, n: int) -> list[str]:
    """``n`` CNIPA-style lines of one section: a subclass, main groups, dotted subgroups."""
    lines = [f"{section}01B        生成的小类{section}"]
    g, k = 1, 0
    while len(lines) < n:
        lines.append(f"{section}01B{g}/00          {TITLES[(g * 3) % 40:(g * 3) % 40 + 6]}[2006.01]")
        for j, dots in enumerate((1, 2, 2, 1, 2, 3, 1)):
            k += 1
            t = TITLES[(k * 5) % 40:(k * 5) % 40 + 4]
            lines.append(f"{section}01B{g}/{(j + 1) * 2:02d}   {'. ' * dots}    {t}[2006.01]")
        g += 1
    return lines[:n]


def wipo_xml(n_entries: int) -> bytes:
    ns = "http://www.wipo.int/classifications/ipc/masterfiles"
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<IPCScheme xmlns="{ns}" lang="EN" edition="20260101">']
    count = 0

    def entry(kind: str, sym: str, title: str) -> str:
        return (f'<ipcEntry kind="{kind}" symbol="{sym}" entryType="K"><textBody><title><titlePart>'
                f"<text>{title}</text></titlePart></title></textBody>")

    for sec in "ABCDEFGH":
        out.append(entry("s", sec, f"SECTION {sec}"))
        out.append(entry("c", f"{sec}01", f"CLASS {sec}01"))
        out.append(entry("u", f"{sec}01B", f"SUBCLASS {sec}01B"))
        count += 3
        g = 1
        while count < n_entries * (ord(sec) - 64) / 8:
            out.append(entry("m", f"{sec}01B{g:04d}000000", f"Main group {g}"))
            for j in range(1, 8):
                out.append(entry("1", f"{sec}01B{g:04d}{j * 2:02d}0000", f"subgroup {j}") + "</ipcEntry>")
            out.append("</ipcEntry>")
            count += 8
            g += 1
        out.append("</ipcEntry></ipcEntry></ipcEntry>")
    out.append("</IPCScheme>")
    return "\n".join(out).encode()


def build_site(sections: str, n_lines: int) -> tuple[dict[str, bytes], dict[str, list[str]]]:
    routes: dict[str, bytes] = {}
    lines = {s: cnipa_lines(s, n_lines) for s in sections}
    links = []
    for s in sections:
        path = f"/cnipa/2026.01版IPC分类表-{s}部.pdf"
        routes[path] = cnipa_pdf(lines[s])
        links.append((path, f"2026.01版IPC分类表-{s}部.pdf"))
    routes["/cnipa/index.html"] = index_html(links)
    return routes, lines


def baseline_cnipa(routes: dict[str, bytes]) -> tuple[float, int, int]:
    from coretech.crawler.pdftext import extract_lines
    from coretech.ipc.readers.cnipa import parse_cnipa_lines

    t = time.perf_counter()
    pages = rows = 0
    for path, body in routes.items():
        if path.endswith(".pdf"):
            lines, n = extract_lines(body)
            pages += n
            rows += len(parse_cnipa_lines(lines, source_name=path, edition="2026.01").table)
    return time.perf_counter() - t, pages, rows


def kill_and_resume(srv: FixtureServer, ref: Path, work: Path, n_files: int) -> dict:
    job, out = work / "job", work / "resumed.csv"
    args = [sys.executable, "-m", "coretech.cli", "ipc", "fetch", "--source", "cnipa",
            "--index-url", srv.url("/cnipa/index.html"), "--out", str(out),
            "--resume", str(job), "--no-throttle"]
    srv.delay = 0.5
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    store = job / "items.jsonl"

    def done() -> int:
        if not store.exists():
            return 0
        return sum(1 for ln in store.read_text(encoding="utf-8").splitlines()
                   if '"t": "PageDone"' in ln and '"links": []' in ln)

    while done() < max(1, n_files // 2) and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = done()
    srv.delay = 0.0
    n_log = len(srv.log)
    t = time.perf_counter()
    s = run_fetch("cnipa", out=out, index_url=srv.url("/cnipa/index.html"), resume=job,
                  throttle=False, log_level="ERROR")
    resume_s = time.perf_counter() - t
    a, b = pd.read_csv(out), pd.read_csv(ref)
    refetched = [p for p, _ in srv.log[n_log:] if p.endswith(".pdf")]
    return {
        "files_stored_before_kill": before,
        "files": n_files,
        "pdf_requests_on_resume": len(refetched),
        "resume_exit_code": s["exit_code"],
        "resume_seconds": round(resume_s, 2),
        "equal_to_uninterrupted": bool(a.drop(columns="source").equals(b.drop(columns="source"))),
        "duplicate_codes": int(a.duplicated(["code", "lang"]).sum()),
        "rows": len(a),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1500, help="lines per section PDF")
    ap.add_argument("--sections", default="ABCDEFGH")
    ap.add_argument("--wipo-entries", type=int, default=20000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"building fixtures: {len(a.sections)} PDFs x {a.lines} lines ...", file=sys.stderr)
        routes, _ = build_site(a.sections, a.lines)
        xml = wipo_xml(a.wipo_entries)
        routes["/20260101/MasterFiles/ipc_scheme_20260101.zip"] = wipo_zip(xml, "EN_ipc_scheme_20260101.xml")
        base_s, base_pages, base_rows = baseline_cnipa(routes)
        with FixtureServer(routes) as srv:
            t = time.perf_counter()
            s = run_fetch("cnipa", out=work / "ref.csv", index_url=srv.url("/cnipa/index.html"),
                          throttle=False, log_level="ERROR")
            crawl_s = time.perf_counter() - t
            assert s["exit_code"] == 0, s
            assert s["entries"] == base_rows, (s["entries"], base_rows)
            print("\nCNIPA crawl (local server, throttle off, one process per crawl):")
            print(f"  files {s['pages_done']}, PDF pages {s['pdf_pages']}, entries {s['entries']}, "
                  f"requests {s['requests']}")
            print(f"  wall {crawl_s:.2f}s (crawl process {s['elapsed_s']:.2f}s incl. start-up)")
            print(f"  {s['pdf_pages'] / crawl_s:.1f} PDF pages/s, {s['entries'] / crawl_s:.0f} entries/s, "
                  f"{s['requests'] / crawl_s:.2f} requests/s")
            print(f"  baseline (same PDFs in-process, no HTTP/Scrapy): {base_s:.2f}s, "
                  f"{base_pages / base_s:.1f} pages/s -> crawl/baseline time ratio {crawl_s / base_s:.2f}")

            from coretech.ipc.readers.wipo_xml import read_wipo_xml

            t = time.perf_counter()
            n_xml = len(read_wipo_xml(xml).table)
            wipo_base = time.perf_counter() - t
            t = time.perf_counter()
            w = run_fetch("wipo", out=work / "en.csv", edition="2026.01", base_url=srv.base,
                          throttle=False, log_level="ERROR")
            wipo_s = time.perf_counter() - t
            assert w["exit_code"] == 0 and w["entries"] == n_xml, (w, n_xml)
            print("\nWIPO crawl (generated master-file zip):")
            print(f"  entries {w['entries']}, zip {len(routes['/20260101/MasterFiles/ipc_scheme_20260101.zip']) / 1e6:.1f} MB, "
                  f"wall {wipo_s:.2f}s, {w['entries'] / wipo_s:.0f} entries/s; "
                  f"baseline read_wipo_xml {wipo_base:.2f}s -> ratio {wipo_s / wipo_base:.2f}")

            print("\nkill (SIGKILL midway, server slowed to 0.5 s/response) and resume:")
            r = kill_and_resume(srv, work / "ref.csv", work, s["pages_done"])
            print("  " + json.dumps(r))
    load = os.getloadavg()
    print(f"\nload average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
