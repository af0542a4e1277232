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


# =========================================================================== held-out bench
GENERIC_HEADS_REPORT = ("技术", "系统", "方法", "装置", "设备", "平台", "服务", "应用", "产品")


def failure_class(name: str) -> str:
    """For reporting only (never used by the matcher): list names (class 3), names ending in a
    generic head such as 技术 / 系统 (classes 1-2), other names."""
    from coretech.matching.candidates import split_items

    if split_items(name):
        return "list name"
    if any(name.endswith(h) for h in GENERIC_HEADS_REPORT):
        return "generic head"
    return "plain name"


def per_tech_frame(dic, cands, gold, codes) -> pd.DataFrame:
    """Per evaluated technology: hit@1, recall@10 and the dictionary counts at subclass and
    main-group level (for bootstrap intervals: ratios of sums over resampled technologies)."""
    from coretech.matching.audit import per_technology, top_candidates

    c = cands[["tech_id", "ipc_code", "score", "rank", "decision"]].assign(decision="auto")
    top1 = per_technology(top_candidates(c, 1), gold, "subclass", scheme_codes=codes)
    top10 = per_technology(top_candidates(c, 10), gold, "subclass", scheme_codes=codes)
    sub = per_technology(dic, gold, "subclass", scheme_codes=codes)
    mg = per_technology(dic, gold, "main_group", scheme_codes=codes)
    out = pd.DataFrame({"tech_id": sub["tech_id"]}).set_index("tech_id")
    out["hit1"] = (top1.set_index("tech_id")["n_correct"] > 0).astype(float)
    out["r10"] = top10.set_index("tech_id")["recall"].astype(float).fillna(0.0)
    for lab, t in (("sub", sub), ("mg", mg)):
        t = t.set_index("tech_id")
        out[f"n_{lab}"] = t["n_codes"]
        out[f"c_{lab}"] = t["n_correct"]
        out[f"g_{lab}"] = t["n_gold"]
        out[f"v_{lab}"] = t["n_gold_covered"]
    out["has_code"] = (out["n_sub"] > 0).astype(float)
    return out.fillna(0.0)


def summary_stats(pt: pd.DataFrame) -> dict[str, float]:
    s = pt.sum()
    n = max(len(pt), 1)
    return {"hit@1": s["hit1"] / n, "recall@10": s["r10"] / n,
            "P_sub": s["c_sub"] / max(s["n_sub"], 1), "R_sub": s["v_sub"] / max(s["g_sub"], 1),
            "P_mg": s["c_mg"] / max(s["n_mg"], 1), "R_mg": s["v_mg"] / max(s["g_mg"], 1),
            "with_code": s["has_code"] / n, "subclasses/tech": s["n_sub"] / n, "n": len(pt)}


def bootstrap(pt: pd.DataFrame, b: int = 1000, seed: int = 0) -> dict[str, tuple[float, float]]:
    """95 % percentile intervals over technologies resampled with replacement."""
    rng = np.random.default_rng(seed)
    arr = pt.to_numpy(dtype=float)
    cols = list(pt.columns)
    draws = []
    for _ in range(b):
        idx = rng.integers(0, len(arr), len(arr))
        draws.append(summary_stats(pd.DataFrame(arr[idx], columns=cols)))
    d = pd.DataFrame(draws)
    return {k: (float(d[k].quantile(0.025)), float(d[k].quantile(0.975)))
            for k in d.columns if k != "n"}


def fit_calibration(feats: pd.DataFrame, labels: np.ndarray, coverage: float = 0.65,
                    threshold: float = 0.5) -> dict:
    """Logistic calibration on labelled candidate pairs (features of
    coretech.matching.evidence.FEATURES), and the floor: the largest score such that at least
    ``coverage`` of the training technologies have an evidence-bearing candidate at or above it
    (so that >= 60 % of technologies get a code, with a margin)."""
    from sklearn.linear_model import LogisticRegression

    from coretech.matching.evidence import FEATURES, apply_calibration

    names = list(FEATURES)
    x = feats[names].to_numpy(dtype=float)
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    lr = LogisticRegression(C=1.0, max_iter=5000)
    lr.fit((x - mu) / sd, labels.astype(int))
    coef = lr.coef_[0] / sd  # back to the features' own scale: plain numbers to ship
    cal = {"features": names, "coef": [round(float(c), 6) for c in coef],
           "intercept": round(float(lr.intercept_[0] - (coef * mu).sum()), 6),
           "threshold": threshold}
    p = apply_calibration(cal, {n: feats[n].to_numpy(dtype=float) for n in names})
    ok = (feats["spec"].to_numpy() > 0) | (feats["prior"].to_numpy() > 0)
    best = pd.Series(np.where(ok, p, 0.0)).groupby(feats["tech_id"].to_numpy()).max()
    cal["floor"] = round(float(min(threshold, np.quantile(best.to_numpy(), 1 - coverage))), 4)
    return cal


def labelled_features(res, gold, codes) -> pd.DataFrame:
    """The candidate pairs' features with their subclass label (gold techs only)."""
    from coretech.matching.audit import label_codes

    f = res.features.copy()
    lab = label_codes(f.assign(score=0.0, rank=1, decision=""), gold, "subclass",
                      scheme_codes=codes)
    f["label"] = lab.to_numpy()
    return f[f["label"].notna()].assign(label=lambda d: d["label"].astype(bool))


def reliability(feats: pd.DataFrame, p: np.ndarray, bins=(0, .1, .2, .3, .4, .5, .6, .7, .8, .9,
                                                         1.0001)) -> pd.DataFrame:
    cut = pd.cut(p, bins=list(bins), right=False)
    d = pd.DataFrame({"bin": cut, "p": p, "y": feats["label"].to_numpy(dtype=float)})
    return d.groupby("bin", observed=True).agg(pairs=("y", "size"), mean_score=("p", "mean"),
                                               precision=("y", "mean")).reset_index()


def write_prior(gold: pd.DataFrame, path: Path, source: str) -> Path:
    """Names + patterns of gold rows as a prior file (JSON Lines; the matcher reads it only
    as an explicit prior, the documented feature of issue 13)."""
    with open(path, "w", encoding="utf-8") as fh:
        for name, inc, exc in zip(gold["name"], gold["include"], gold["exclude"], strict=True):
            fh.write(json.dumps({"name": name, "patterns": list(inc), "exclude": list(exc),
                                 "source": source}, ensure_ascii=False) + "\n")
    return path


def heldout(schemes, cache: Path, *, with_prior: bool = True, boot: int = 1000,
            keywords: bool = False) -> dict:
    """Leave-one-sub-system-out on key_digital (tune on 6, score the 7th; the 7th's names are
    removed from the training rows and the prior, since many recur across sub-systems), WIPO
    scored with the calibration fitted on all of key_digital; matcher vs plain TF-IDF on the same folds;
    optionally the prior experiment (the other six sub-systems as prior)."""
    from coretech.matching.gold import gold_catalogue, read_gold
    from coretech.matching.matcher import Matcher
    from coretech.matching.prior import Prior, read_prior

    tmp = Path(tempfile.mkdtemp(prefix="ct-heldout-"))
    g_kd, g_wipo = read_gold(GOLD_KD), read_gold(GOLD_WIPO)
    cat_kd = gold_catalogue(g_kd, lang="zh")
    if keywords:
        cat_kd = cat_kd.assign(keywords=[";".join(k) for k in g_kd["keywords"]])
    cat_wipo = gold_catalogue(g_wipo, lang="en")
    codes_zh = set(schemes["zh"].loc[schemes["zh"]["lang"] == "zh", "code"])
    codes_en = set(schemes["en"].loc[schemes["en"]["lang"] == "en", "code"])
    field = dict(zip(g_kd["tech_id"], g_kd["field"], strict=True))
    folds = sorted(set(g_kd["field"]))
    m_zh = Matcher(lang="zh", cache_dir=cache, calibration_model="none", diversity=0.5,
                   keep_features=True).fit(schemes["zh"])
    m_en = Matcher(lang="en", cache_dir=cache, calibration_model="none", diversity=0.5,
                   keep_features=True).fit(schemes["en"])

    # 236 of the 506 scored names recur in another sub-system (图像增强, 差分隐私, ...): a fold's
    # names are removed from its training rows and from its prior, so that no held-out name
    # is seen, neither by the calibration nor as a prior name (held out means held out)
    name_of = dict(zip(g_kd["tech_id"], g_kd["name"], strict=True))
    names_in = {k: set(g_kd.loc[g_kd["field"] == k, "name"]) for k in folds}

    def unseen(rows: pd.DataFrame, k: str) -> pd.DataFrame:
        return rows[~rows["tech_id"].map(name_of).isin(names_in[k])]

    def prior_of(fields: list[str], held: str) -> Prior:
        sel = g_kd[g_kd["field"].isin(fields) & ~g_kd["name"].isin(names_in[held])]
        return Prior(read_prior(write_prior(sel, tmp / f"prior-{held}-{len(fields)}-"
                                            f"{hash(tuple(fields))}.jsonl",
                                            "key_digital (other sub-systems)")))

    # features (calibration-free) of every technology: no prior, and (nested) with priors
    base = labelled_features(m_zh.match(cat_kd), g_kd, codes_zh)
    base["fold"] = base["tech_id"].map(field)
    base_en = labelled_features(m_en.match(cat_wipo), g_wipo, codes_en)
    nested: dict[tuple[str, str], pd.DataFrame] = {}
    if with_prior:
        for k in folds:
            for j in folds:
                if j == k:
                    continue
                cj = cat_kd[cat_kd["tech_id"].map(field) == j]
                pr = prior_of([x for x in folds if x not in (j, k)], j)
                nested[(k, j)] = unseen(labelled_features(m_zh.match(cj, prior=pr), g_kd,
                                                          codes_zh), k)
    docs = scheme_docs(schemes["zh"], "zh")
    kinds = dict(zip(docs["code"], docs["kind"], strict=True))
    tf_cands = _frame(cat_kd["tech_id"].tolist(), baseline_tfidf(docs, cat_kd["name_zh"].tolist()),
                      kinds, "tfidf-char")
    rows, per_class, rel_parts = [], [], []
    pts: dict[str, list[pd.DataFrame]] = {"matcher": [], "tfidf-char": [], "matcher+prior": [],
                                          "matcher (old score)": []}
    cals = {}
    for k in folds:
        train = unseen(base[base["fold"] != k], k)
        cal = fit_calibration(train, train["label"].to_numpy())
        cals[k] = cal
        test_cat = cat_kd[cat_kd["tech_id"].map(field) == k]
        gk = g_kd[g_kd["field"] == k]
        m = Matcher(lang="zh", cache_dir=cache, calibration_model=cal,
                    keep_features=True).fit(schemes["zh"])
        res = m.match(test_cat)
        pt = per_tech_frame(res.dictionary, res.candidates, gk, codes_zh)
        pts["matcher"].append(pt)
        lf = labelled_features(res, gk, codes_zh)
        rel_parts.append(lf)
        old = m_zh.match(test_cat)
        pts["matcher (old score)"].append(per_tech_frame(old.dictionary, old.candidates, gk,
                                                         codes_zh))
        sizes = res.dictionary.groupby("tech_id").size().to_dict()
        tc = tf_cands[tf_cands["tech_id"].isin(set(test_cat["tech_id"]))]
        pts["tfidf-char"].append(per_tech_frame(sized_dictionary(tc, sizes), tc, gk, codes_zh))
        if with_prior:
            tr = pd.concat([nested[(k, j)] for j in folds if j != k], ignore_index=True)
            cal_p = fit_calibration(tr, tr["label"].to_numpy())
            mp = Matcher(lang="zh", cache_dir=cache, calibration_model=cal_p).fit(schemes["zh"])
            rp = mp.match(test_cat, prior=prior_of([x for x in folds if x != k], k))
            pts["matcher+prior"].append(per_tech_frame(rp.dictionary, rp.candidates, gk,
                                                       codes_zh))
    names_of = dict(zip(g_kd["tech_id"], g_kd["name"], strict=True))
    n_subsys = g_kd.groupby("name")["field"].nunique().to_dict()
    report: dict = {"folds": folds, "calibrations": cals}
    for label, lst in pts.items():
        if not lst:
            continue
        pt = pd.concat(lst)
        st, ci = summary_stats(pt), bootstrap(pt, boot)
        rows.append({"set": "key_digital LOSO (zh, names)", "method": label, **st,
                     **{f"{a}_ci": ci[a] for a in ci}})
        cls = pt.index.map(lambda t: failure_class(names_of[t]))
        for c in sorted(set(cls)):
            per_class.append({"method": label, "class": c, **summary_stats(pt[cls == c])})
        recurs = pt.index.map(lambda t: n_subsys[names_of[t]] > 1)
        for c, sel in (("name in one sub-system", ~recurs), ("name in several", recurs)):
            per_class.append({"method": label, "class": c, **summary_stats(pt[sel])})
    # WIPO: calibration fitted on all of key_digital (transfer to English field names)
    cal_all = fit_calibration(base, base["label"].to_numpy())
    m = Matcher(lang="en", cache_dir=cache, calibration_model=cal_all).fit(schemes["en"])
    res = m.match(cat_wipo)
    docs_en = scheme_docs(schemes["en"], "en")
    kinds_en = dict(zip(docs_en["code"], docs_en["kind"], strict=True))
    tfw = _frame(cat_wipo["tech_id"].tolist(), baseline_tfidf(docs_en, cat_wipo["name_en"].tolist()),
                 kinds_en, "tfidf-char")
    sizes = res.dictionary.groupby("tech_id").size().to_dict()
    old = m_en.match(cat_wipo)
    for label, pt in (("matcher", per_tech_frame(res.dictionary, res.candidates, g_wipo, codes_en)),
                      ("matcher (old score)", per_tech_frame(old.dictionary, old.candidates,
                                                             g_wipo, codes_en)),
                      ("tfidf-char", per_tech_frame(sized_dictionary(tfw, sizes), tfw, g_wipo,
                                                    codes_en))):
        st, ci = summary_stats(pt), bootstrap(pt, boot)
        rows.append({"set": "WIPO (en, names; calibrated on key_digital)", "method": label, **st,
                     **{f"{a}_ci": ci[a] for a in ci}})
    # reliability of the fold-held-out calibrated scores (pairs of the candidates)
    rel = pd.concat(rel_parts, ignore_index=True)
    acc_rel = reliability(rel, rel["score"].to_numpy(dtype=float))
    report.update({"table": rows, "per_class": per_class,
                   "reliability": json.loads(acc_rel.to_json(orient="records")),
                   "calibration_all_key_digital": cal_all})
    if with_prior:
        allp = pd.concat([*nested.values()], ignore_index=True).drop_duplicates(
            ["tech_id", "ipc_code"])
        # across languages: key_digital (all of it) as prior for WIPO, with the with-prior
        # calibration fitted on key_digital alone; and WIPO as prior for key_digital (reach)
        cal_kp = fit_calibration(allp, allp["label"].to_numpy())
        pr_kd = Prior(read_prior(write_prior(g_kd, tmp / "kd-all.jsonl", "key_digital")))
        m = Matcher(lang="en", cache_dir=cache, calibration_model=cal_kp).fit(schemes["en"])
        rw = m.match(cat_wipo, prior=pr_kd)
        pt = per_tech_frame(rw.dictionary, rw.candidates, g_wipo, codes_en)
        st, ci = summary_stats(pt), bootstrap(pt, boot)
        rows.append({"set": "WIPO (en, names; calibrated on key_digital)",
                     "method": "matcher+prior (key_digital)", **st,
                     **{f"{a}_ci": ci[a] for a in ci}})
        pr_w = Prior(read_prior(write_prior(g_wipo, tmp / "wipo.jsonl", "wipo")))
        tok_zh = m_zh.indexes_["zh"].tokenizer()
        tok_en = m_en.indexes_["en"].tokenizer()
        report["prior_reach"] = {
            "wipo_names_with_a_key_digital_prior_name": int(
                (pr_kd.similarity(cat_wipo["name_en"].tolist(), tok_en).max(axis=1) >= 0.3).sum()),
            "key_digital_names_with_a_wipo_prior_name": int(
                (pr_w.similarity(cat_kd["name_zh"].tolist(), tok_zh).max(axis=1) >= 0.3).sum()),
        }
        # shipped calibration: one model without a prior (key_digital + WIPO, names only), one
        # used when a prior is given (key_digital with the nested priors + WIPO)
        ship_np = pd.concat([base, base_en], ignore_index=True)
        ship_p = pd.concat([allp, base_en], ignore_index=True)
        report["calibration_ship"] = {
            "without_prior": fit_calibration(ship_np, ship_np["label"].to_numpy()),
            "with_prior": fit_calibration(ship_p, ship_p["label"].to_numpy()),
            "fitted_on": "bench/matching.py --heldout: key_digital_2023 (527 zh names, every "
                         "sub-system) + WIPO concordance (35 en names); with_prior: "
                         "key_digital with the other sub-systems as prior (nested; the scored "
                         "sub-system's names removed from the prior)",
        }
    return report


def print_heldout(rep: dict) -> None:
    t = pd.DataFrame(rep["table"])
    keys = ["hit@1", "recall@10", "P_sub", "R_sub", "P_mg", "R_mg", "with_code"]
    print("\n== held-out figures (95 % bootstrap intervals over technologies)")
    for r in t.to_dict("records"):
        cells = "  ".join(f"{k} {r[k]:.3f} [{r[k + '_ci'][0]:.3f}, {r[k + '_ci'][1]:.3f}]"
                          for k in keys)
        print(f"{r['set']:<45} {r['method']:<20} n={r['n']:<4} {cells}  subclasses/tech "
              f"{r['subclasses/tech']:.2f}")
    print("\n== per failure class (key_digital LOSO)")
    print(pd.DataFrame(rep["per_class"]).round(3).to_string(index=False))
    print("\n== reliability of the held-out calibrated score (candidate pairs, subclass label)")
    rel = pd.DataFrame(rep["reliability"])
    rel["bin"] = [f"[{b['left']:.1f}, {min(b['right'], 1.0):.1f})" for b in rel["bin"]]
    print(rel.round(3).to_string(index=False))
    if "prior_reach" in rep:
        print("\n== prior across languages:", rep["prior_reach"])


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
    ap.add_argument("--heldout", action="store_true",
                    help="leave-one-sub-system-out on key_digital + WIPO, with intervals")
    ap.add_argument("--no-prior", action="store_true", help="--heldout without the prior runs")
    ap.add_argument("--boot", type=int, default=1000, help="bootstrap draws")
    ap.add_argument("--write-calibration", default=None,
                    help="--heldout: write the calibration fitted on all folds here (JSON)")
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
    if args.heldout:
        rep = heldout(schemes, cache, with_prior=not args.no_prior, boot=args.boot,
                      keywords=args.with_keywords)
        print_heldout(rep)
        if args.write_calibration and "calibration_ship" in rep:
            Path(args.write_calibration).write_text(json.dumps(
                rep["calibration_ship"], indent=1) + "\n", encoding="utf-8")
        if args.json:
            Path(args.json).write_text(json.dumps(rep, indent=2, ensure_ascii=False, default=str))
        return 0
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
