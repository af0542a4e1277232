"""Which language(s) each technology is matched in: the scheme's languages and the names."""

from __future__ import annotations

import pandas as pd

from coretech.errors import InputError, data_row

LANG_NAMES = {"zh": "Chinese", "en": "English"}
NAME_COLUMN = {"zh": "name_zh", "en": "name_en"}


def scheme_languages(scheme: pd.DataFrame) -> list[str]:
    """The languages (``zh``, ``en``) that a scheme table has rows in."""
    if "lang" not in scheme.columns:
        return []
    return sorted({str(x) for x in scheme["lang"].dropna().unique()} & {"zh", "en"})


def assign_languages(cat: pd.DataFrame, available: list[str], lang: str) -> list[list[str]]:
    """The languages each technology is matched in (``cat`` validated, ``available`` = the
    scheme's). Raises an InputError naming the row when a name's language is missing."""
    src = cat.attrs.get("source")
    out = []
    for i, rec in enumerate(cat[["tech_id", "name_zh", "name_en"]].itertuples(index=False)):
        has = [lg for lg in ("zh", "en") if getattr(rec, NAME_COLUMN[lg])]
        if lang != "auto":
            if lang not in has:
                raise InputError(
                    f"technology {rec.tech_id!r} has no {NAME_COLUMN[lang]}, needed "
                    f"with --lang {lang}", file=src, row=data_row(i), column=NAME_COLUMN[lang])
            out.append([lang])
            continue
        use = [lg for lg in has if lg in available]
        if not use:
            need = LANG_NAMES[has[0]]
            other = NAME_COLUMN["en" if need == "Chinese" else "zh"]
            raise InputError(
                f"technology {rec.tech_id!r} has only a {need} name, and the IPC scheme has "
                f"no {need} titles (it has: {', '.join(LANG_NAMES[x] for x in available) or 'none'}"
                f"); load a {need} scheme with `coretech ipc load` and pass it with --ipc, "
                f"or add {other}", file=src, row=data_row(i), column=NAME_COLUMN[has[0]])
        out.append(use)
    return out
