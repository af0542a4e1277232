"""Spiders of ``coretech ipc fetch``: they only parse; pipelines validate and store."""

from coretech.crawler.spiders.cnipa import CnipaSpider
from coretech.crawler.spiders.wipo import WipoSpider

SPIDERS = {"wipo": WipoSpider, "cnipa": CnipaSpider}

__all__ = ["SPIDERS", "CnipaSpider", "WipoSpider"]
