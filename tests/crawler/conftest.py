"""Fixtures of the crawler tests (the builders live in ``crawlsite``, importable by name)."""

from crawlsite import cnipa_pdfs, scheme_zip, site

__all__ = ["cnipa_pdfs", "scheme_zip", "site"]
