"""Benchmark of `coretech ipc load`: the embedded default, the Chinese shared file, a large XML.

Run:  .venv/bin/python bench/ipc_load.py [--repeat 3] [--xml-entries 60000]

Prints wall-clock figures (best of --repeat) and ratios against a baseline measured in the same
run: pandas.read_csv of the same file (the cost of merely reading it). Figures:

- Chinese table, fresh processes (issue 18's goal, <= 2.5x): `coretech ipc load zh.tsv --out
                            X.parquet` with the cache off vs a script that does not import
                            coretech: `pandas.read_csv` + `DataFrame.to_parquet` of the same file;
                            alternating, medians, the ratio
- Chinese table, in-process: `run_load` vs `read_csv + to_parquet` in this process (no start-up)
- default, command (cold):  `coretech ipc load --out X.parquet` in a subprocess with the disk
                            cache off: interpreter start, imports, reading, writing, provenance
- default, command (warm):  the same with the on-disk cache of the default scheme primed
- default_scheme() build:   in-process, cache off (the < 3 s goal)
- default_scheme() cached:  in-process, from the disk cache
- Chinese shared file:      `run_load` of ../shared/data/ipc/ipc_zh_2026_flat.tsv (in-process)
- XML master file:          read_wipo_xml of a synthetic master file in the real format,
                            MB/s and the extrapolated time for the ~100 MB real file
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CORETECH_SHARED", REPO.parent / "shared"))
NS = "http://www.wipo.int/classifications/ipc/masterfiles"
DOT_PATTERN = (1, 2, 3, 3, 2, 1, 2, 2, 1)  # dots of the subgroups of each synthetic main group


CPU: list[float] = []  # CPU seconds of the last best() (this process and its children)


def best(fn, repeat: int) -> float:
    """Best wall-clock time of ``repeat`` runs; its CPU time (own + children) goes to CPU[-1].

    On a shared machine the wall time grows with the load average; the CPU time is the
    figure that does not (it is what the run costs on an idle core).
    """
    times = []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), os.times()
        fn()
        c1 = os.times()
        cpu = (c1.user - c0.user) + (c1.system - c0.system)
        cpu += (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
        times.append((time.perf_counter() - t0, cpu))
    wall, cpu = min(times)
    CPU.append(cpu)
    return wall


def synthetic_xml(path: Path, n_entries: int) -> int:
    """Write a master file in the real format with about ``n_entries`` classifying entries."""
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<IPCScheme xmlns="{NS}" lang="EN" edition="20260101">\n']

    def title(text: str, ref: str | None = None) -> str:
        r = f'<entryReference>see <sref ref="{ref}"/></entryReference>' if ref else ""
        return f"<textBody><title><titlePart><text>{text}</text>{r}</titlePart></title></textBody>"

    count = 0
    sections = "ABCDEFGH"
    for si, sec in enumerate(sections):
        parts.append(f'<ipcEntry kind="s" symbol="{sec}" entryType="K">{title("SECTION " + sec)}')
        for c in range(1, 100):
            if count >= n_entries:
                break
            cls = f"{sec}{c:02d}"
            parts.append(f'<ipcEntry kind="c" symbol="{cls}" entryType="K">{title("CLASS " + cls)}')
            for letter in "BCDFGHJKLMNPQ":
                sub = cls + letter
                parts.append(f'<ipcEntry kind="u" symbol="{sub}" entryType="K">{title("SUBCLASS " + sub)}')
                for mg in range(1, 9):
                    m14 = f"{sub}{mg:04d}000000"
                    parts.append(f'<ipcEntry kind="g" symbol="{m14}" entryType="K">{title("Heading")}</ipcEntry>')
                    parts.append(f'<ipcEntry kind="m" symbol="{m14}" entryType="K" edition="20060101">'
                                 f'{title("Main group of things", f"{sub}{mg + 1:04d}000000")}')
                    count += 1
                    open_levels = 0
                    for k, dots in enumerate(DOT_PATTERN, 1):
                        while open_levels >= dots:
                            parts.append("</ipcEntry>")
                            open_levels -= 1
                        parts.append(f'<ipcEntry kind="{dots}" symbol="{sub}{mg:04d}{k * 2:02d}0000" '
                                     f'entryType="K">{title("with a particular feature of level " + str(dots))}')
                        open_levels += 1
                        count += 1
                    parts.append("</ipcEntry>" * open_levels)
                    parts.append("</ipcEntry>")
                parts.append("</ipcEntry>")
                count += 1
            parts.append("</ipcEntry>")
        parts.append("</ipcEntry>")
        if count >= n_entries or si == len(sections) - 1:
            break
    parts.append("</IPCScheme>\n")
    path.write_text("".join(parts), encoding="utf-8")
    return count


REFERENCE = """
import sys
import pandas as pd
df = pd.read_csv(sys.argv[1], sep="\\t", dtype=str, keep_default_na=False)
df.to_parquet(sys.argv[2], index=False)
"""


def zh_fresh_processes(zh: Path, tmp: Path, rounds: int, before: Path | None = None) -> None:
    """`coretech ipc load` (cache off) vs read_csv + to_parquet, each in a fresh process.

    ``before``: a checkout of other coretech code (e.g. ``git archive`` of an earlier commit)
    timed the same way in the same rounds. Every process runs in ``tmp``, so the current
    folder never shadows ``PYTHONPATH``."""
    ref = tmp / "reference_read_csv_to_parquet.py"
    ref.write_text(REFERENCE, encoding="utf-8")
    env = {**os.environ, "CORETECH_CACHE_DIR": "off", "PYTHONPATH": str(REPO)}
    ref_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cmds = {
        "coretech": ([sys.executable, "-m", "coretech.cli", "ipc", "load", str(zh), "--out",
                      str(tmp / "zh_cli.parquet")], env),
        "reference": ([sys.executable, str(ref), str(zh), str(tmp / "zh_ref.parquet")], ref_env),
    }
    if before is not None:
        cmds["before"] = (cmds["coretech"][0][:-1] + [str(tmp / "zh_before.parquet")],
                          {**env, "PYTHONPATH": str(before.resolve())})
    import resource

    names = list(cmds)
    times: dict[str, list[float]] = {k: [] for k in names}
    cpus: dict[str, list[float]] = {k: [] for k in names}
    load0 = os.getloadavg()[0]
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            cmd, e = cmds[name]
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, env=e, check=True, capture_output=True, cwd=tmp)
            times[name].append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[name].append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    c, b = statistics.median(times["coretech"]), statistics.median(times["reference"])
    cc, cb = statistics.median(cpus["coretech"]), statistics.median(cpus["reference"])
    print(f"zh        fresh processes, {rounds} rounds alternating (load {load0:.1f} -> "
          f"{os.getloadavg()[0]:.1f}):")
    print(f"zh          `coretech ipc load zh.tsv` (cache off)  median {c:6.2f} s  "
          f"[{', '.join(f'{t:.2f}' for t in times['coretech'])}]")
    print(f"zh          read_csv + to_parquet script          median {b:6.2f} s  "
          f"[{', '.join(f'{t:.2f}' for t in times['reference'])}]")
    print(f"zh          ratio {c / b:.2f}x wall (goal <= 2.5x); CPU medians {cc:.2f} s vs "
          f"{cb:.2f} s, ratio {cc / cb:.2f}x")
    if before is not None:
        o, oc = statistics.median(times["before"]), statistics.median(cpus["before"])
        print(f"zh          code in {before} (before)              median {o:6.2f} s  "
              f"[{', '.join(f'{t:.2f}' for t in times['before'])}]")
        print(f"zh          before: ratio {o / b:.2f}x wall; CPU median {oc:.2f} s, ratio "
              f"{oc / cb:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5, help="fresh-process rounds (zh)")
    ap.add_argument("--xml-entries", type=int, default=60_000)
    ap.add_argument("--zh-only", action="store_true", help="only the Chinese table figures")
    ap.add_argument("--before", type=Path, default=None,
                    help="a checkout of earlier coretech code to time alongside (zh, fresh "
                    "processes), e.g. from `git archive COMMIT coretech | tar -x -C DIR`")
    args = ap.parse_args()
    zh = SHARED / "data" / "ipc" / "ipc_zh_2026_flat.tsv"
    tmp = Path(tempfile.mkdtemp(prefix="ipc_bench_"))
    if zh.is_file():
        zh_fresh_processes(zh, tmp, args.rounds, args.before)
        import pandas as pd

        def ref_in_process() -> None:
            pd.read_csv(zh, sep="\t", dtype=str, keep_default_na=False).to_parquet(
                tmp / "zh_ref_in.parquet", index=False)

        zr = best(ref_in_process, args.repeat)
        os.environ["CORETECH_CACHE_DIR"] = "off"
        from coretech.ipc import scheme as _scheme

        zl = best(lambda: _scheme.run_load([zh], out=tmp / "zh_in.parquet"), args.repeat)
        print(f"zh        in-process: run_load {zl:.2f} s, read_csv + to_parquet {zr:.2f} s, "
              f"ratio {zl / zr:.2f}x")
    else:
        print(f"zh        skipped: {zh} is absent")
    if args.zh_only:
        print(f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.2f}, {time.strftime('%Y-%m-%d %H:%M')})")
        return

    import pandas as pd

    from coretech.ipc import scheme
    from coretech.ipc.readers import read_wipo_xml

    src = scheme.default_source_path()
    exe = str(REPO / ".venv" / "bin" / "coretech")
    if not Path(exe).exists():
        exe = "coretech"

    base = best(lambda: pd.read_csv(src, sep="\t", header=None, quoting=3, dtype=str,
                                    on_bad_lines="skip"), args.repeat)
    print(f"baseline  pandas.read_csv(all_ipc.csv)            {base:6.2f} s")

    def cli(cache: str) -> None:
        env = {**os.environ, "CORETECH_CACHE_DIR": cache}
        subprocess.run([exe, "ipc", "load", "--out", str(tmp / "en.parquet")], env=env,
                       check=True, stdout=subprocess.DEVNULL)

    cold = best(lambda: cli("off"), args.repeat)
    cache_dir = str(tmp / "cache")
    cli(cache_dir)  # prime
    warm = best(lambda: cli(cache_dir), args.repeat)
    print(f"default   `coretech ipc load --out en.parquet` cold  {cold:6.2f} s  ({cold / base:5.1f}x baseline)  cpu {CPU[-2]:.2f} s")
    print(f"default   `coretech ipc load --out en.parquet` warm  {warm:6.2f} s  ({warm / base:5.1f}x baseline)  cpu {CPU[-1]:.2f} s")

    os.environ["CORETECH_CACHE_DIR"] = "off"

    def build() -> None:
        scheme.default_read_result.cache_clear()
        scheme.default_scheme.cache_clear()
        scheme.default_scheme()

    b = best(build, args.repeat)
    print(f"default   default_scheme() build, no cache        {b:6.2f} s  ({b / base:5.1f}x baseline)  cpu {CPU[-1]:.2f} s  goal < 3 s")
    os.environ["CORETECH_CACHE_DIR"] = cache_dir
    c = best(build, args.repeat)
    print(f"default   default_scheme() from the disk cache    {c:6.2f} s  ({c / base:5.1f}x baseline)  cpu {CPU[-1]:.2f} s")

    zh = SHARED / "data" / "ipc" / "ipc_zh_2026_flat.tsv"
    if zh.is_file():
        zb = best(lambda: pd.read_csv(zh, sep="\t", dtype=str, keep_default_na=False), args.repeat)
        rec: dict = {}

        def load_zh() -> None:
            rec.update(scheme.run_load([zh], out=tmp / "zh.parquet", edition="2026.01"))

        z = best(load_zh, args.repeat)
        print(f"zh        run_load(ipc_zh_2026_flat.tsv)          {z:6.2f} s  ({z / zb:5.1f}x its read_csv {zb:.2f} s)  cpu {CPU[-1]:.2f} s")
        d = rec["counts"]["defects"]
        print("zh        defects: " + ", ".join(f"{k} {v:,}" for k, v in sorted(d.items())))
        print(f"zh        rows {rec['counts']['rows']:,}, subclasses {rec['counts']['rows_subclass']}, "
              f"rejected {rec['counts']['rejected_rows']:,}")
    else:
        print(f"zh        skipped: {zh} is absent")

    xml = tmp / "ipc_scheme_synthetic.xml"
    n = synthetic_xml(xml, args.xml_entries)
    mb = xml.stat().st_size / 1e6
    x = best(lambda: read_wipo_xml(xml), 1)
    xc = CPU[-1]
    print(f"xml       read_wipo_xml synthetic {mb:.1f} MB, {n:,} entries  {x:6.2f} s  cpu {xc:.2f} s "
          f"({mb / xc:.1f} MB per CPU second; ~{100 / (mb / xc):.0f} CPU s for a 100 MB master file)")
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
