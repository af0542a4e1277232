"""Benchmark: how long `coretech demo` takes (goal, issue 18: a cold demo in <= 15 s), stage by stage.

Runs the demo in fresh processes, as a user would (`coretech demo --out DIR`):

1. from scratch with an empty cache (matcher index, embedded scheme) (CORETECH_CACHE_DIR = a new folder): what a
   fresh machine sees, the index of the English scheme built once;
2. from scratch into a second folder with that cache warm (a user's second demo);
3. again into the first folder: every stage skipped (the pipeline's own bookkeeping).

For each: wall time and CPU time (user + sys of the child processes; on a shared, loaded
machine the CPU time is the better estimate of the wall time on an idle one). Also the
per-stage seconds from timings.json and whether runs 1 and 2 are byte-identical apart from
timings.json. Prints the figures; asserts nothing.

    .venv/bin/python bench/demo.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).with_name("coretech")


def run_demo(out: Path, cache: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `coretech demo` process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([str(BIN), "demo", "--out", str(out), "--quiet"], check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "CORETECH_CACHE_DIR": str(cache)})
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def differing(a: Path, b: Path) -> list[str]:
    bad = []
    for p in sorted(a.rglob("*")):
        if p.is_file() and p.name != "timings.json":
            q = b / p.relative_to(a)
            if not q.is_file() or not filecmp.cmp(p, q, shallow=False):
                bad.append(str(p.relative_to(a)))
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="keep the outputs in this folder")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="coretech-bench-demo-"))
    a, b = root / "run1", root / "run2"
    for d in (a, b):
        if d.exists():
            raise SystemExit(f"{d} exists; give an empty --keep folder")
    cache = root / "index-cache"
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    w1, c1 = run_demo(a, cache)
    t1 = json.loads((a / "timings.json").read_text())
    w2, c2 = run_demo(b, cache)
    t2 = json.loads((b / "timings.json").read_text())
    w3, c3 = run_demo(a, cache)
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    print(f"1. demo, fresh machine (empty index cache): {w1:6.1f} s wall, {c1:6.1f} s CPU "
          "(goal <= 15 s)")
    print(f"2. demo, index cache warm:                  {w2:6.1f} s wall, {c2:6.1f} s CPU")
    print(f"3. rerun, every stage skipped:              {w3:6.1f} s wall, {c3:6.1f} s CPU "
          f"= {w3 / w2:.2f} x run 2")
    print("per stage, seconds inside the pipeline (run 1 | run 2):")
    for name, e in t1["stages"].items():
        e2 = t2["stages"].get(name, {})
        print(f"  {name:<17} {e['seconds']:7.2f} | {e2.get('seconds', 0):7.2f}  {e['status']}")
    print(f"  {'total':<17} {t1['total_seconds']:7.2f} | {t2['total_seconds']:7.2f}")
    timings = json.loads((a / "timings.json").read_text())
    skipped = sum(e["status"].startswith("skipped") for e in timings["stages"].values())
    print(f"rerun: {skipped} stages skipped")
    diff = differing(a, b)
    print("two cold runs byte-identical apart from timings.json:",
          "yes" if not diff else f"NO: {diff}")


if __name__ == "__main__":
    main()
