"""Benchmark of the matcher against two plain baselines on the two shared gold sets, and speed.

    .venv/bin/python bench/matching.py [--sweep] [--with-keywords] [--skip-speed]
        [--speed-only] [--rounds N] [--only key_digital|wipo] [--cache-dir DIR] [--json FILE]

Quality (definitions of issue 5, computed by coretech.matching.audit.audit_metrics):
* key_digital_2023.jsonl (527 Chinese names) against the Chinese shared scheme
  (coretech.ipc.readers.load_sources on ../shared/data/ipc/ipc_zh_2026_flat.tsv);
* wipo_ipc_technology_concordance.csv (35 English field names) against the embedded English
  scheme (coretech.ipc.scheme.default_scheme()).
Names only (gold_catalogue copies no pattern and no keyword); ``--with-keywords`` adds a second
run in which key_digital's keyword lists are given as catalogue keywords (labelled as such).

Baselines, in the same run and on the same scheme rows:
* tfidf-char: TfidfVectorizer(char_wb, 2-4, sublinear_tf) over "subclass title + main-group
  title + own title", cosine, sparse top-50;
* rapidfuzz: fuzz.partial_ratio(name, own title) with processor default_process, top 50.
A baseline's dictionary holds, per technology, as many of its top candidates as the matcher's
dictionary holds for that technology (equal sizes, so precision and recall compare fairly).

Speed: 700 technologies against the full English scheme and against the full Chinese scheme,
index loaded from the on-disk cache. Each round starts a fresh process per language (so jieba's
dictionary, lazy imports and cold caches count, as in a user's second run); the modules are
imported first and timed apart, then fit (loading the cached index) + match is the figure the
issue's goal (< 2 s) is about. The wall time on this shared 2-core machine drifts by ~30 %
from minute to minute, so the same process also times the issue's reference, plain TF-IDF
top-k of the 700 English names (the issue measured it at 0.84 s), and the ratio is reported.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
ZH_SCHEME = SHARED / "ipc" / "ipc_zh_2026_flat.tsv"
GOLD_KD = SHARED / "gold" / "key_digital_2023.jsonl"
GOLD_WIPO = SHARED / "gold" / "wipo_ipc_technology_concordance.csv"
KINDS = ("subclass", "main_group", "subgroup")
COLS = ["tech_id", "ipc_code", "kind", "score", "rank", "method", "evidence", "decision"]


def load_schemes() -> dict[str, pd.DataFrame]:
    from coretech.ipc.readers import load_sources
    from coretech.ipc.scheme import default_scheme

    zh = load_sources([ZH_SCHEME])
    zh = getattr(zh, "table", zh)
    return {"zh": zh, "en": default_scheme()}


def scheme_docs(scheme: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rows of the baselines: code, kind, own title, 'subclass + main group + own' text."""
    from coretech.ipc import truncate

    df = scheme[(scheme["lang"] == lang) & scheme["kind"].isin(KINDS)].drop_duplicates("code")
    df = df[df["title"].fillna("").astype(str).str.strip() != ""]
    title = dict(zip(df["code"], df["title"].astype(str), strict=True))
    texts = []
    for c, k in zip(df["code"], df["kind"], strict=True):
        parts = [title.get(truncate(c, "subclass"), "")]
        if k == "subgroup":
            parts.append(title.get(truncate(c, "main_group"), ""))
        if k != "subclass":
            parts.append(title[c])
        texts.append(" ".join(p for p in parts if p))
    return pd.DataFrame({"code": df["code"].to_numpy(), "kind": df["kind"].to_numpy(),
                         "title": df["title"].astype(str).to_numpy(), "text": texts})


def _frame(tech_ids, codes_scores, kinds, method) -> pd.DataFrame:
    rows = []
    for tid, lst in zip(tech_ids, codes_scores, strict=True):
        for r, (code, s) in enumerate(lst, start=1):
            rows.append((tid, code, kinds[code], round(float(s), 4), r, method, "", ""))
    return pd.DataFrame(rows, columns=COLS)


def baseline_tfidf(docs: pd.DataFrame, names: list[str], k: int = 50) -> list[list[tuple]]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sparse_dot_topn import sp_matmul_topn

    v = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                        dtype=np.float32)
    d = v.fit_transform(docs["text"])
    q = v.transform(names)
    m = sp_matmul_topn(q, d.T.tocsr(), top_n=k, threshold=1e-9, sort=True)
    codes = docs["code"].to_numpy()
    out = []
    for i in range(len(names)):
        lo, hi = m.indptr[i], m.indptr[i + 1]
        pairs = sorted(zip(m.indices[lo:hi], m.data[lo:hi], strict=True), key=lambda p: (-p[1], p[0]))
        out.append([(codes[j], s) for j, s in pairs])
    return out


def baseline_rapidfuzz(docs: pd.DataFrame, names: list[str], k: int = 50) -> list[list[tuple]]:
    from rapidfuzz import fuzz, process
    from rapidfuzz.utils import default_process

    titles = docs["title"].tolist()
    codes = docs["code"].to_numpy()
    out = []
    for name in names:
        res = process.extract(name, titles, scorer=fuzz.partial_ratio, processor=default_process,
                              limit=k)
        res = sorted(res, key=lambda x: (-x[1], x[2]))
        out.append([(codes[j], s / 100.0) for _, s, j in res])
    return out


def sized_dictionary(cands: pd.DataFrame, sizes: dict[str, int]) -> pd.DataFrame:
    """Top-n_t candidates of each technology, n_t = the matcher's dictionary size."""
    parts = [g.head(sizes.get(t, 0)) for t, g in cands.groupby("tech_id", sort=False)]
    d = pd.concat(parts, ignore_index=True) if parts else cands.iloc[0:0]
    return d.assign(decision="auto")


def metrics(dic, cands, gold, codes) -> dict:
    from coretech.matching.audit import audit_metrics

    m = audit_metrics(dic, gold, cands, scheme_codes=codes)
    return {
        "hit@1": m["hit_at_1"], "recall@10": m["recall_at_10"],
        "P_sub": m["levels"]["subclass"]["precision"], "R_sub": m["levels"]["subclass"]["recall"],
        "P_mg": m["levels"]["main_group"]["precision"], "R_mg": m["levels"]["main_group"]["recall"],
        "codes/tech": len(dic) / max(1, m["n_technologies"]),
        "gold_not_in_scheme": m["n_gold_codes_not_in_scheme"],
    }


def evaluate(name, scheme, lang, gold, catalogue, matcher_kw, baselines=True) -> pd.DataFrame:
    from coretech.matching.matcher import Matcher

    codes = set(scheme.loc[scheme["lang"] == lang, "code"])
    t0 = time.perf_counter()
    m = Matcher(lang=lang, **matcher_kw).fit(scheme)
    res = m.match(catalogue)
    t_match = time.perf_counter() - t0
    rows = {"matcher": metrics(res.dictionary, res.candidates, gold, codes)}
    rows["matcher"]["seconds"] = t_match
    if baselines:
        docs = scheme_docs(scheme, lang)
        kinds = dict(zip(docs["code"], docs["kind"], strict=True))
        names = catalogue["name_zh" if lang == "zh" else "name_en"].tolist()
        ids = catalogue["tech_id"].tolist()
        sizes = res.dictionary.groupby("tech_id").size().to_dict()
        for label, fn in (("tfidf-char", baseline_tfidf), ("rapidfuzz", baseline_rapidfuzz)):
            t0 = time.perf_counter()
            cands = _frame(ids, fn(docs, names), kinds, label)
            t = time.perf_counter() - t0
            rows[label] = metrics(sized_dictionary(cands, sizes), cands, gold, codes)
            rows[label]["seconds"] = t
    out = pd.DataFrame(rows).T
    out.index.name = name
    return out


def speed_catalogues(schemes) -> dict[str, pd.DataFrame]:
    """The 700-technology catalogues: key_digital's names then keywords (zh); every n-th English
    main-group title cut to its first six words (en)."""
    from coretech.matching.gold import read_gold

    gold = read_gold(GOLD_KD)
    zh_texts = list(gold["name"]) + [k for ks in gold["keywords"] for k in ks]
    zh_texts = list(dict.fromkeys(zh_texts))[:700]
    en = schemes["en"]
    mg = en[(en["kind"] == "main_group") & en["title"].notna()]["title"].astype(str).tolist()
    step = max(1, len(mg) // 700)
    en_texts = [" ".join(t.split()[:6]) for t in mg[::step]][:700]
    out = {}
    for lang, texts in (("en", en_texts), ("zh", zh_texts)):
        col = "name_zh" if lang == "zh" else "name_en"
        out[lang] = pd.DataFrame({"tech_id": [f"T{i:04d}" for i in range(len(texts))], col: texts})
    return out


def speed_child(lang: str, inputs: Path, cache_dir: Path) -> dict:
    """One fresh process: import, then fit (the index from the disk cache) and match, timed.

    Also times the issue's reference in the same process: a plain TF-IDF (char_wb 2-4,
    sublinear) over the English own titles, fitted beforehand; the 700 English names are
    transformed and their top 50 taken with ``sp_matmul_topn`` (the issue measured 0.84 s).
    """
    t0 = time.perf_counter()
    import jieba  # noqa: F401
    import rapidfuzz  # noqa: F401
    import scipy.sparse  # noqa: F401
    import sklearn.feature_extraction.text  # noqa: F401
    from sparse_dot_topn import sp_matmul_topn

    from coretech.matching.matcher import Matcher

    t1 = time.perf_counter()
    import pickle

    scheme, cat = pickle.loads((inputs / f"{lang}.pkl").read_bytes())
    vec, mat_t, en_names = pickle.loads((inputs / "reference.pkl").read_bytes())
    t2 = time.perf_counter()
    m = Matcher(lang=lang, cache_dir=cache_dir).fit(scheme)
    t3 = time.perf_counter()
    res = m.match(cat)
    t4 = time.perf_counter()
    res2 = m.match(cat)
    t5 = time.perf_counter()
    sp_matmul_topn(vec.transform(en_names), mat_t, top_n=50, threshold=1e-9, sort=True,
                   n_threads=2)
    t6 = time.perf_counter()
    same = res.dictionary.equals(res2.dictionary) and res.candidates.equals(res2.candidates)
    return {"lang": lang, "technologies": len(cat), "entries": m.indexes_[lang].n_entries,
            "cache_hit": bool(m.cache_[lang]["hit"]), "imports_s": t1 - t0,
            "fit_cached_s": t3 - t2, "match_s": t4 - t3, "fit_match_s": t4 - t2,
            "match_again_s": t5 - t4, "reference_tfidf_s": t6 - t5, "identical_rerun": same}


def speed(schemes, cache_dir: Path, rounds: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """700 technologies, index from the disk cache, each round in a fresh process per language
    (what a user's second run sees); the figures of every round and their medians."""
    import pickle
    import subprocess

    from sklearn.feature_extraction.text import TfidfVectorizer

    from coretech.matching.matcher import Matcher

    cats = speed_catalogues(schemes)
    inputs = Path(tempfile.mkdtemp(prefix="ct-speed-"))
    for lang, cat in cats.items():
        Matcher(lang=lang, cache_dir=cache_dir).fit(schemes[lang])  # warm the on-disk cache
        (inputs / f"{lang}.pkl").write_bytes(pickle.dumps((schemes[lang], cat)))
    docs = scheme_docs(schemes["en"], "en")
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                          dtype=np.float32)
    mat_t = vec.fit_transform(docs["title"]).T.tocsr()
    (inputs / "reference.pkl").write_bytes(pickle.dumps((vec, mat_t, cats["en"]["name_en"].tolist())))
    rows = []
    for r in range(rounds):
        for lang in ("en", "zh"):
            out = subprocess.run(
                [sys.executable, __file__, "--speed-child", lang, str(inputs), str(cache_dir)],
                check=True, capture_output=True, text=True)
            rows.append({"round": r + 1, **json.loads(out.stdout.strip().splitlines()[-1])})
    every = pd.DataFrame(rows)
    every["fit_match_per_reference"] = every["fit_match_s"] / every["reference_tfidf_s"]
    num = ["imports_s", "fit_cached_s", "match_s", "fit_match_s", "match_again_s",
           "reference_tfidf_s", "fit_match_per_reference"]
    summary = every.groupby("lang")[num].agg(["median", "min", "max"])
    return every, summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sweep", action="store_true", help="grid over the decision-rule defaults")
    ap.add_argument("--with-keywords", action="store_true",
                    help="also run key_digital with its keyword lists as catalogue keywords")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--only", choices=("key_digital", "wipo"), default=None,
                    help="measure quality on this gold set alone (quicker while iterating)")
    ap.add_argument("--cache-dir", default=None, help="index cache (default: a temp dir)")
    ap.add_argument("--json", default=None, help="write all figures here")
    ap.add_argument("--rounds", type=int, default=5, help="speed rounds (fresh processes)")
    ap.add_argument("--speed-child", nargs=3, metavar=("LANG", "INPUTS", "CACHE"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.speed_child:
        lang, inputs, cache_dir = args.speed_child
        print(json.dumps(speed_child(lang, Path(inputs), Path(cache_dir))))
        return 0
    if not SHARED.is_dir():
        print(f"../shared is absent ({SHARED}); nothing to measure", file=sys.stderr)
        return 1
    from coretech.matching.gold import gold_catalogue, read_gold

    pd.set_option("display.width", 200)
    pd.set_option("display.float_format", lambda x: f"{x:.3f}")
    cache = Path(args.cache_dir) if args.cache_dir else Path(tempfile.mkdtemp(prefix="ct-bench-"))
    t0 = time.perf_counter()
    schemes = load_schemes()
    print(f"schemes loaded in {time.perf_counter() - t0:.1f}s: "
          + ", ".join(f"{k} {len(v)} rows" for k, v in schemes.items()))
    g_kd, g_wipo = read_gold(GOLD_KD), read_gold(GOLD_WIPO)
    cat_kd = gold_catalogue(g_kd, lang="zh")
    cat_wipo = gold_catalogue(g_wipo, lang="en")
    kw = {"cache_dir": cache}
    report: dict = {}
    tables = []
    if not args.speed_only and args.only in (None, "key_digital"):
        tables.append(evaluate("key_digital_2023 (zh, names only)", schemes["zh"], "zh", g_kd,
                               cat_kd, kw))
    if not args.speed_only and args.only in (None, "wipo"):
        tables.append(evaluate("wipo_concordance (en, names only)", schemes["en"], "en", g_wipo,
                               cat_wipo, kw))
    if args.with_keywords and not args.speed_only and args.only in (None, "key_digital"):
        cat_kw = cat_kd.assign(keywords=[";".join(k) for k in g_kd["keywords"]])
        tables.append(evaluate("key_digital_2023 (zh, names + the gold file's keywords)",
                               schemes["zh"], "zh", g_kd, cat_kw, kw))
    for t in tables:
        print(f"\n== {t.index.name}")
        print(t.to_string())
        report[t.index.name] = json.loads(t.to_json(orient="index"))
    if args.sweep and not args.speed_only:
        grid = []
        for thr in (0.3, 0.4, 0.5, 0.6, 0.7):
            for cap in (5, 10, 20):
                for roll in ("none", "main_group"):
                    opts = {"threshold": thr, "max_codes": cap, "rollup": roll, **kw}
                    a = evaluate("kd", schemes["zh"], "zh", g_kd, cat_kd, opts, baselines=False)
                    b = evaluate("wipo", schemes["en"], "en", g_wipo, cat_wipo, opts, baselines=False)
                    rec = {"threshold": thr, "max_codes": cap, "rollup": roll}
                    for lab, t in (("kd", a), ("wipo", b)):
                        r = t.loc["matcher"]
                        for key in ("P_sub", "R_sub", "P_mg", "R_mg", "codes/tech"):
                            rec[f"{lab}_{key}"] = r[key]
                    grid.append(rec)
        g = pd.DataFrame(grid)
        print("\n== decision-rule sweep (matcher only)")
        print(g.to_string(index=False))
        report["sweep"] = g.to_dict(orient="records")
    if not args.skip_speed:
        every, summary = speed(schemes, cache, rounds=args.rounds)
        print(f"\n== speed: 700 technologies, index loaded from the disk cache, {args.rounds} "
              "rounds, each a fresh process per language (seconds, wall)")
        print(every.round(3).to_string(index=False))
        print("\nmedian / min / max over the rounds")
        print(summary.round(3).T.to_string())
        report["speed"] = json.loads(every.to_json(orient="records"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process: {peak:.0f} MB")
    report["peak_rss_mb"] = round(peak)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
