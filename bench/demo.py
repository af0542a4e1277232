"""Benchmark: how long `coretech demo` takes (goal: under 60 s), stage by stage.

Runs the demo in fresh processes, as a user would (`coretech demo --out DIR`): twice from
scratch into two folders (wall time, per-stage seconds from timings.json, and whether the two
folders are byte-identical apart from timings.json), then once more into the first folder,
where every stage is skipped (the cost of the pipeline's own bookkeeping: hashing inputs and
outputs). Prints the figures; asserts nothing.

    .venv/bin/python bench/demo.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).with_name("coretech")


def run_demo(out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([str(BIN), "demo", "--out", str(out), "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


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
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    t1 = run_demo(a)
    t2 = run_demo(b)
    t3 = run_demo(a)
    timings = json.loads((a / "timings.json").read_text())
    first = json.loads((b / "timings.json").read_text())
    print(f"coretech demo, cold run 1: {t1:6.1f} s wall (goal < 60 s)")
    print(f"coretech demo, cold run 2: {t2:6.1f} s wall")
    print(f"coretech demo, rerun (every stage skipped): {t3:5.1f} s wall "
          f"= {t3 / min(t1, t2):.2f} x a cold run")
    print("per stage (cold run 2, seconds inside the pipeline):")
    for name, e in first["stages"].items():
        print(f"  {name:<17} {e['seconds']:7.2f}  {e['status']}")
    print(f"  {'total':<17} {first['total_seconds']:7.2f}")
    skipped = sum(e["status"].startswith("skipped") for e in timings["stages"].values())
    print(f"rerun: {skipped} stages skipped")
    diff = differing(a, b)
    print("two cold runs byte-identical apart from timings.json:",
          "yes" if not diff else f"NO: {diff}")


if __name__ == "__main__":
    main()
