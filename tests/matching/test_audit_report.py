"""`coretech audit` end to end: metrics JSON, a self-contained HTML report rendered in
headless Chromium, byte-identical reruns, and the HTML builder itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from coretech.cli import main
from coretech.htmlreport import HTMLReport, new_figure
from coretech.matching.audit_report import run_audit

FIX = Path(__file__).parent / "fixtures"


def _audit(tmp_path: Path, name: str = "a") -> tuple[Path, Path, dict]:
    out, js = tmp_path / f"{name}.html", tmp_path / f"{name}.json"
    rc = main(["audit", str(FIX / "dictionary_small.csv"), "--gold", str(FIX / "gold_small.csv"),
               "--candidates", str(FIX / "candidates_small.csv"),
               "--ipc", str(FIX / "tiny_scheme.csv"), "--out", str(out), "--json", str(js)])
    assert rc == 0
    return out, js, json.loads(js.read_text(encoding="utf-8"))


def test_audit_command_metrics(tmp_path):
    """Hand-worked (see test_audit.py): H01L21* is not in the 2026 tiny scheme -> set apart;
    subclass P 3/5 R 3/4, subgroup P 3/6 R 3/4; every top-1 candidate is a hit."""
    _, _, m = _audit(tmp_path)
    assert m["n_technologies"] == 3
    assert m["n_gold_codes_not_in_scheme"] == 1
    assert m["gold_codes_not_in_scheme"] == ["H01L21/00"]
    assert m["levels"]["subclass"]["precision"] == pytest.approx(0.6)
    assert m["levels"]["subclass"]["recall"] == pytest.approx(0.75)
    assert m["levels"]["main_group"]["f1"] == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    assert m["levels"]["subgroup"]["precision"] == pytest.approx(0.5)
    assert m["hit_at_1"] == 1.0
    assert m["recall_at_10"] == 1.0
    assert m["n_technologies_no_match"] == 1
    assert m["coverage_by_field"]["新一代信息技术"] == {"matched": 1, "recall": pytest.approx(2 / 3),
                                                  "technologies": 2}
    # the threshold with the best subclass F1 is 0.7 (P 1, R 3/4 on the candidates)
    assert m["best_f1_threshold"]["subclass"]["threshold"] == pytest.approx(0.7)
    meta = json.loads((tmp_path / "a.meta.json").read_text(encoding="utf-8"))
    assert meta["stage"] == "audit"
    assert len(meta["inputs"]["gold"]["sha256"]) == 64


def test_audit_outputs_are_byte_identical(tmp_path):
    a_html, a_js, _ = _audit(tmp_path, "a")
    b_html, b_js, _ = _audit(tmp_path, "b")
    assert a_html.read_bytes() == b_html.read_bytes()
    assert a_js.read_bytes() == b_js.read_bytes()


def test_report_is_self_contained(tmp_path):
    html, _, _ = _audit(tmp_path)
    text = html.read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in text
    assert "<script" not in text.lower()
    assert re.findall(r'(?:src|href)="(?!data:|#)', text) == []
    assert "http://" not in text and "https://" not in text
    assert text.count('src="data:image/svg+xml;base64,') == 3  # scores, PR, coverage
    for needle in ("词典质量审计", "Worst misses".lower(), "神经网络芯片", "LED照明"):
        assert needle in text.lower() or needle in text
    # the worst misses show the best candidates with their path titles (Chinese scheme)
    assert "F21V23/00 0.25 ✓" in text


def test_report_renders_in_chromium(tmp_path, chromium):
    html, _, _ = _audit(tmp_path)
    shot = tmp_path / "audit.png"
    r = chromium.render(html, screenshot=shot, width=1200)
    assert r.console_errors == []
    assert r.external_requests == []
    assert "词典质量审计" in r.title
    assert "Coverage by field" in r.text and "技术" in r.text
    assert shot.stat().st_size > 20_000
    assert r.content_height > 1500  # figures and tables laid out, not an empty page


def test_audit_errors(tmp_path):
    bad = tmp_path / "d.csv"
    bad.write_text("tech_id,ipc_code\nX1,G06N3/08\n", encoding="utf-8")
    with pytest.raises(Exception, match="none of the 1 tech_ids of the dictionary"):
        run_audit(bad, gold=FIX / "gold_small.csv", ipc=FIX / "tiny_scheme.csv",
                  json_out=tmp_path / "m.json")
    assert main(["audit", str(bad), "--gold", str(FIX / "gold_small.csv")]) == 2  # no output
    bad.write_text("tech_id,ipc_code\nT1,G06N3/0x\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"d.csv, row 2, column 'ipc_code'"):
        run_audit(bad, gold=FIX / "gold_small.csv", ipc=FIX / "tiny_scheme.csv",
                  json_out=tmp_path / "m.json")


def test_htmlreport_builder(tmp_path, chromium):
    """The shared builder: escaping, tables, truncation note, figures, determinism."""
    def build() -> str:
        rep = HTMLReport("报告 <test>", subtitle="a & b")
        rep.heading("第一节").paragraph("<b>not bold</b>").note("模拟数据 simulated")
        rep.metrics({"n": 1234, "p": 0.12345, "none": None})
        df = pd.DataFrame({"城市": ["北京", "上海", "广州"], "x": [1.5, 2.25, None],
                           "n": pd.array([1, None, 3], dtype="Int64")})
        rep.table(df, caption="表", max_rows=2)
        rep.heading("第二节")
        fig, ax = new_figure(4, 3)
        ax.bar(["北京", "上海"], [1, 2])
        ax.set_title("城市")
        rep.figure(fig, caption="图", fmt="png")
        return rep.render()

    a, b = build(), build()
    assert a == b
    assert "&lt;b&gt;not bold&lt;/b&gt;" in a and "报告 &lt;test&gt;" in a
    assert "1,234" in a and "0.123" in a
    assert "1 more rows not shown (3 in all)" in a
    assert "<NA>" not in a and "nan" not in a
    assert '<td>上海</td><td class="num">2.250</td><td class="num"></td>' in a
    assert 'href="#s1"' in a and 'href="#s2"' in a
    assert "data:image/png;base64," in a
    p = tmp_path / "r.html"
    p.write_text(a, encoding="utf-8")
    r = chromium.render(p)
    assert r.console_errors == [] and "模拟数据" in r.text


def test_audit_of_real_matcher_output(tmp_path):
    """The matcher's own files (tiny scheme) audit without error, and the subclass hit@1 and
    precision agree with a direct count from the files."""
    from coretech.io import write_table
    from coretech.ipc import truncate
    from coretech.ipc.scheme import read_scheme
    from coretech.matching.matcher import Matcher

    cat = pd.DataFrame({"tech_id": ["T1", "T2", "T3"],
                        "name_zh": ["神经网络芯片", "IGBT芯片", "LED照明"], "name_en": ""})
    res = Matcher(cache_dir=False, term_min_df=1).fit(read_scheme(FIX / "tiny_scheme.csv")) \
        .match(cat)
    dic, cand = tmp_path / "dictionary.csv", tmp_path / "candidates.csv"
    write_table(res.dictionary, dic)
    write_table(res.candidates, cand)
    rec = run_audit(dic, gold=FIX / "gold_small.csv", candidates=cand,
                    ipc=FIX / "tiny_scheme.csv", json_out=tmp_path / "m.json",
                    out=tmp_path / "a.html")
    m = rec["metrics"]
    assert m["n_technologies"] == 3 and m["n_gold_codes_not_in_scheme"] == 1
    # direct count at subclass level (no exclusion applies there): gold subclasses per tech
    gold_sub = {"T1": {"G06N", "H04L"}, "T2": {"B60L"}, "T3": {"F21"}}

    def ok(t: str, code: str) -> bool:
        s = truncate(code, "subclass")
        return any(s.startswith(g) for g in gold_sub[t])

    top = res.candidates.sort_values(["tech_id", "rank"]).groupby("tech_id").head(1)
    hits = [ok(t, c) for t, c in zip(top.tech_id, top.ipc_code, strict=True)]
    assert m["hit_at_1"] == pytest.approx(sum(hits) / 3)
    subs = {(t, truncate(c, "subclass")) for t, c in zip(res.dictionary.tech_id,
                                                        res.dictionary.ipc_code, strict=True)}
    n_ok = sum(ok(t, s) for t, s in subs)
    assert m["levels"]["subclass"]["precision"] == pytest.approx(n_ok / len(subs))


_CJK_NAMES = ("CJK", "Han Sans", "Han Serif", "Hei", "WenQuanYi", "PingFang", "YaHei", "Fallback",
              "UMing", "UKai", "Noto Sans SC", "Arial Unicode")


def test_chinese_figure_text_finds_a_cjk_font_installed_after_the_font_cache(tmp_path,
                                                                             monkeypatch):
    """The usual order: matplotlib built its font cache, then fonts-noto-cjk was installed. The
    cache (simulated: its CJK entries removed) knows no CJK font, yet the audit figures must
    find one and draw every Chinese glyph (no "Glyph ... missing" warning)."""
    import warnings

    from matplotlib import font_manager

    from coretech import htmlreport
    from coretech.fonts import cjk_font_files

    if not cjk_font_files():
        pytest.skip("no CJK font on this machine (apt-get install fonts-noto-cjk)")
    fm = font_manager.fontManager
    stale = [f for f in fm.ttflist if not any(k in f.name for k in _CJK_NAMES)]
    monkeypatch.setattr(fm, "ttflist", stale)
    if hasattr(fm, "_findfont_cached"):
        fm._findfont_cached.cache_clear()
    htmlreport.figure_fonts.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            out, _, _ = _audit(tmp_path)  # figure titles and field names are Chinese
        missing = [str(w.message) for w in got if "missing from font" in str(w.message)]
        assert missing == []
        assert htmlreport.figure_fonts()[1]  # a CJK family is in the figure font list
        assert "<svg" in out.read_text(encoding="utf-8") or "data:image/svg" in \
            out.read_text(encoding="utf-8")
    finally:
        htmlreport.figure_fonts.cache_clear()
        if hasattr(fm, "_findfont_cached"):
            fm._findfont_cached.cache_clear()
