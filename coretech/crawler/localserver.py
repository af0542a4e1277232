"""A local HTTP server serving IPC fixtures, with fault injection (tests and benchmarks).

:class:`FixtureServer` listens on 127.0.0.1 on a free port, in a thread, and serves the
routes it is given (path -> bytes). Faults are queued per path and used up one request at a
time: ``"503"``/``"429"``/any status, ``"timeout"`` (sleep past the client's timeout, then
drop the connection), ``"truncate"`` (announce the full Content-Length, send half, close),
``"corrupt"`` (200 with the right length and garbage bytes); ``always`` statuses never
recover. ``delay`` slows every response (a crawl to kill midway). Every request is logged.

:func:`wipo_zip` and :func:`index_html` build fixtures in the real formats (a master-file zip,
an index page linking the section PDFs). The CNIPA-like PDFs (Chinese text in the CID font
``STSong-Light``) are built by ``tests/crawler/pdf_fixture.py`` with reportlab, a ``[test]``
extra, so that the installed package imports only its declared dependencies.
"""

from __future__ import annotations

import io
import threading
import time
import zipfile
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, unquote, urlparse


class FixtureServer:
    """``with FixtureServer(routes) as srv: srv.url("/path")``."""

    def __init__(
        self,
        routes: dict[str, bytes] | None = None,
        *,
        robots: str = "User-agent: *\nAllow: /\n",
        delay: float = 0.0,
    ) -> None:
        self.routes: dict[str, bytes] = dict(routes or {})
        self.routes.setdefault("/robots.txt", robots.encode())
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self.always: dict[str, int] = {}
        self.delay = delay
        self.timeout_sleep = 8.0
        self.log: list[tuple[str, int | str]] = []
        self.user_agents: list[str] = []
        self.arrivals: list[float] = []  # time.monotonic() of each request
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # ------------------------------------------------------------------ control
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + quote(path, safe="/?&=%")

    def fault(self, path: str, *actions: str) -> None:
        self.faults[path].extend(actions)

    def break_forever(self, path: str, status: int = 500) -> None:
        self.always[path] = status

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for p, _ in self.log if p == path)

    def start(self) -> FixtureServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ handler
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                path = unquote(urlparse(self.path).path)
                full = unquote(self.path)
                key = full if full in server.routes or full in server.faults else path
                with server._lock:
                    action = server.faults[key].popleft() if server.faults.get(key) else None
                    server.user_agents.append(self.headers.get("User-Agent", ""))
                status: int | str
                if key in server.always:
                    status = server.always[key]
                elif action is not None:
                    status = action
                elif key in server.routes:
                    status = 200
                else:
                    status = 404
                with server._lock:  # logged on arrival, before any delay
                    server.log.append((key, status))
                    server.arrivals.append(time.monotonic())
                if server.delay and key != "/robots.txt":
                    time.sleep(server.delay)
                try:
                    self._answer(key, status)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (a killed crawl)

            def _answer(self, key: str, status: int | str) -> None:
                if status == "timeout":
                    time.sleep(server.timeout_sleep)
                    self.close_connection = True
                    return
                body = server.routes.get(key, b"")
                if status == "truncate":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Content-Type", _ctype(key))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if status == "corrupt":
                    junk = bytes((b * 7 + 3) % 256 for b in body)
                    self._send(200, junk, key)
                    return
                code = int(status)
                if code != 200:
                    self._send(code, f"error {code}\n".encode(), "/error.txt")
                    return
                self._send(200, body, key)

            def _send(self, code: int, body: bytes, key: str) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", _ctype(key))
                if code in (429, 503):
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(body)

        return Handler


def _ctype(path: str) -> str:
    p = path.lower().split("?")[0]
    for ext, ct in ((".zip", "application/zip"), (".pdf", "application/pdf"),
                    (".xml", "application/xml"), (".txt", "text/plain; charset=utf-8"),
                    (".html", "text/html; charset=utf-8")):
        if p.endswith(ext):
            return ct
    return "text/html; charset=utf-8" if "." not in p.rsplit("/", 1)[-1] else "application/octet-stream"


# ---------------------------------------------------------------------- fixture builders
def wipo_zip(xml: bytes, member: str) -> bytes:
    """A master-file zip holding ``member`` (fixed timestamps: the same bytes every time)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, xml)
    return buf.getvalue()


def index_html(links: list[tuple[str, str]], title: str = "IPC分类表") -> bytes:
    """An index page with ``<a href=href>text</a>`` for each (href, text)."""
    items = "\n".join(f'<li><a href="{h}">{t}</a></li>' for h, t in links)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1><ul>\n{items}\n</ul></body></html>"
    ).encode()
