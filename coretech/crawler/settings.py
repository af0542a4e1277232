"""Scrapy settings of a coretech crawl: politeness by default, retries, cache, resume.

Defaults are polite towards WIPO's and CNIPA's servers: robots.txt obeyed, AutoThrottle on,
one request at a time per host, a delay between requests, and a user agent that names
coretech and, with ``contact``, how to reach the person crawling. ``throttle=False`` switches
the delays off (for a local server: tests and benchmarks only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coretech import __version__

#: HTTP statuses retried (server errors, rate limiting, request timeout).
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
#: Seconds between requests to one host when throttling (AutoThrottle's start delay too).
DEFAULT_DELAY = 2.0
DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
PROJECT_URL = "https://github.com/coretech"


def user_agent(contact: str | None) -> str:
    """``coretech/0.1.0 (+mailto:me@uni.edu)``; without a contact the project URL."""
    who = contact.strip() if contact else ""
    if who and "@" in who and not who.startswith(("mailto:", "http")):
        who = "mailto:" + who
    return f"coretech/{__version__} (+{who or PROJECT_URL}; IPC scheme crawler)"


@dataclass
class CrawlOptions:
    """Everything that shapes one crawl (validated by :meth:`check`)."""

    source: str  # "wipo" | "cnipa"
    out: str
    job_dir: str
    summary_path: str
    edition: str | None = None
    base_url: str | None = None
    index_url: str | None = None
    catchwords: bool = False
    concordance: bool = False
    scheme_file: str = "MasterFiles/ipc_scheme_{date}.zip"
    catchword_file: str = "MasterFiles/ipc_catchwordindex_{date}.zip"
    concordance_file: str = "MasterFiles/ipc_concordancelist_{date}.zip"
    cache_dir: str | None = None
    resume: bool = False
    throttle: bool = True
    delay: float = DEFAULT_DELAY
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    contact: str | None = None
    partial: bool = False
    sections: str = "ABCDEFGH"
    log_level: str = "INFO"
    extra_settings: dict[str, Any] = field(default_factory=dict)


def scrapy_settings(opts: CrawlOptions) -> dict[str, Any]:
    """The Scrapy settings dict of a crawl."""
    s: dict[str, Any] = {
        "BOT_NAME": "coretech",
        "USER_AGENT": user_agent(opts.contact),
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": 2,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": opts.delay if opts.throttle else 0.0,
        "DOWNLOAD_DELAY_JITTER": 0.5 if opts.throttle else 0.0,
        "AUTOTHROTTLE_ENABLED": opts.throttle,
        "AUTOTHROTTLE_START_DELAY": max(opts.delay, 0.1),
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": opts.retries,
        "RETRY_HTTP_CODES": RETRY_HTTP_CODES,
        "DOWNLOAD_TIMEOUT": opts.timeout,
        "DOWNLOAD_FAIL_ON_DATALOSS": True,
        "DOWNLOAD_MAXSIZE": 512 * 1024 * 1024,
        "DOWNLOAD_WARNSIZE": 0,
        "JOBDIR": str(Path(opts.job_dir) / "scrapy"),
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": opts.log_level,
        "LOG_FORMAT": "%(asctime)s [%(name)s] %(levelname)s: %(message)s",
        "LOGSTATS_INTERVAL": 30.0,
        "COOKIES_ENABLED": False,
        "ITEM_PIPELINES": {
            "coretech.crawler.pipelines.ValidationPipeline": 100,
            "coretech.crawler.pipelines.FilePipeline": 200,
            "coretech.crawler.pipelines.StorePipeline": 900,
        },
        "DOWNLOADER_MIDDLEWARES": {
            # closer to the downloader than the cache (900): a corrupt body is never cached
            "coretech.crawler.middlewares.BodyCheckMiddleware": 950,
            "coretech.crawler.middlewares.ResumeSkipMiddleware": 50,
        },
        "EXTENSIONS": {"coretech.crawler.middlewares.Progress": 500},
        "CORETECH_JOB_DIR": str(opts.job_dir),
    }
    if opts.cache_dir:
        s.update(
            {
                "HTTPCACHE_ENABLED": True,
                "HTTPCACHE_DIR": str(Path(opts.cache_dir).resolve()),
                "HTTPCACHE_EXPIRATION_SECS": 0,
                "HTTPCACHE_IGNORE_HTTP_CODES": list(range(400, 600)),
                "HTTPCACHE_POLICY": "scrapy.extensions.httpcache.DummyPolicy",
                "HTTPCACHE_STORAGE": "scrapy.extensions.httpcache.FilesystemCacheStorage",
            }
        )
    s.update(opts.extra_settings)
    return s
