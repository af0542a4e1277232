"""Shared fixtures: where ../shared lives, and a skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CORETECH_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ../shared folder (real samples and reference lists); skip when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"../shared is absent ({SHARED}): this test reads real shared data")
    return SHARED


# --------------------------------------------------------------------------- headless Chromium
# Renders HTML reports the way a reader's browser does (audit and pipeline report tests).
# Driven over the DevTools protocol, so that console errors, uncaught exceptions, failed loads
# and any request leaving the machine are seen with their level. Skips when Chromium is absent.

import json as _json  # noqa: E402
import shutil as _shutil  # noqa: E402
import subprocess as _subprocess  # noqa: E402
import tempfile as _tempfile  # noqa: E402
import time as _time  # noqa: E402
import urllib.request as _urlreq  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402
from dataclasses import field as _field  # noqa: E402

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")


@_dataclass
class RenderResult:
    """What a page did when Chromium loaded it."""

    console_errors: list[str] = _field(default_factory=list)  # console.error, exceptions, log errors, failed loads
    console_messages: list[str] = _field(default_factory=list)  # every console/log message, "level: text"
    external_requests: list[str] = _field(default_factory=list)  # requests not to file: / data: / about:
    title: str = ""
    text: str = ""  # document.body.innerText
    screenshot: Path | None = None
    content_height: int = 0
    scroll_width: int = 0  # document.documentElement.scrollWidth
    inner_width: int = 0  # window.innerWidth (the viewport): scroll_width > it = horizontal overflow
    value: object = None  # what the ``evaluate`` expression returned (JSON-decoded)


class Chromium:
    """Headless Chromium (Debian's ``chromium``) driven over the DevTools protocol.

    ``render(path, screenshot=tmp_path / "page.png")`` loads a local HTML file in a fresh
    browser profile, waits for the load event, collects console errors and requests, and saves
    a full-page PNG screenshot. ``width`` is the viewport (390 = a phone); the result has the
    page's ``scroll_width`` and the viewport's ``inner_width`` (horizontal overflow when the
    first is larger), and ``value``: what the JavaScript expression ``evaluate`` returned.
    """

    def __init__(self, executable: str) -> None:
        self.executable = executable

    def render(self, html_path: str | Path, *, screenshot: str | Path | None = None,
               width: int = 1200, height: int = 900, timeout: float = 60.0,
               settle: float = 0.5, evaluate: str | None = None) -> RenderResult:
        from websockets.sync.client import connect

        profile = Path(_tempfile.mkdtemp(prefix="coretech-chromium-"))
        proc = _subprocess.Popen(
            [self.executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             "--remote-debugging-port=0", f"--window-size={width},{height}",
             "--hide-scrollbars", "--no-first-run", "--no-default-browser-check", "about:blank"],
            stdout=_subprocess.DEVNULL, stderr=_subprocess.DEVNULL,
        )
        try:
            port = self._port(profile, proc, timeout)
            ws_url = self._page_ws(port, timeout)
            result = RenderResult()
            with connect(ws_url, max_size=None, open_timeout=timeout) as ws:
                seq = iter(range(1, 1 << 30))
                pending: dict[int, dict] = {}

                def call(method: str, params: dict | None = None) -> dict:
                    msg_id = next(seq)
                    ws.send(_json.dumps({"id": msg_id, "method": method, "params": params or {}}))
                    deadline = _time.monotonic() + timeout
                    while msg_id not in pending:
                        left = deadline - _time.monotonic()
                        if left <= 0:
                            raise TimeoutError(f"chromium: no reply to {method}")
                        handle(_json.loads(ws.recv(timeout=left)))
                    reply = pending.pop(msg_id)
                    if "error" in reply:
                        raise RuntimeError(f"chromium: {method} failed: {reply['error']}")
                    return reply.get("result", {})

                loaded = {"done": False}

                def handle(msg: dict) -> None:
                    if "id" in msg:
                        pending[msg["id"]] = msg
                        return
                    method, p = msg.get("method"), msg.get("params", {})
                    if method == "Runtime.consoleAPICalled":
                        text = " ".join(str(a.get("value", a.get("description", "")))
                                        for a in p.get("args", []))
                        result.console_messages.append(f"{p.get('type')}: {text}")
                        if p.get("type") in ("error", "assert"):
                            result.console_errors.append(f"console.{p.get('type')}: {text}")
                    elif method == "Runtime.exceptionThrown":
                        d = p.get("exceptionDetails", {})
                        desc = d.get("exception", {}).get("description") or d.get("text", "")
                        result.console_errors.append(f"uncaught exception: {desc}")
                    elif method == "Log.entryAdded":
                        e = p.get("entry", {})
                        result.console_messages.append(f"{e.get('level')}: {e.get('text')}")
                        if e.get("level") == "error":
                            result.console_errors.append(
                                f"log error ({e.get('source')}): {e.get('text')} {e.get('url', '')}")
                    elif method == "Network.requestWillBeSent":
                        url = p.get("request", {}).get("url", "")
                        if not url.startswith(("file:", "data:", "about:", "blob:")):
                            result.external_requests.append(url)
                    elif method == "Network.loadingFailed":
                        result.console_errors.append(
                            f"failed load: {p.get('errorText')} ({p.get('type')})")
                    elif method == "Page.loadEventFired":
                        loaded["done"] = True

                for domain in ("Runtime", "Log", "Network", "Page"):
                    call(f"{domain}.enable")
                call("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
                url = Path(html_path).resolve().as_uri()
                nav = call("Page.navigate", {"url": url})
                if nav.get("errorText"):
                    result.console_errors.append(f"navigation failed: {nav['errorText']}")
                deadline = _time.monotonic() + timeout
                while not loaded["done"] and _time.monotonic() < deadline:
                    try:
                        handle(_json.loads(ws.recv(timeout=deadline - _time.monotonic())))
                    except TimeoutError:
                        break
                if not loaded["done"]:
                    result.console_errors.append("the page never fired its load event")
                end = _time.monotonic() + settle
                while _time.monotonic() < end:
                    try:
                        handle(_json.loads(ws.recv(timeout=max(end - _time.monotonic(), 0.01))))
                    except TimeoutError:
                        break
                info = call("Runtime.evaluate", {
                    "expression": "JSON.stringify([document.title, document.body ? "
                                  "document.body.innerText : ''])", "returnByValue": True})
                result.title, result.text = _json.loads(info["result"]["value"])
                dims = call("Runtime.evaluate", {
                    "expression": "JSON.stringify([document.documentElement.scrollWidth, "
                                  "window.innerWidth])", "returnByValue": True})
                result.scroll_width, result.inner_width = _json.loads(dims["result"]["value"])
                if evaluate is not None:
                    got = call("Runtime.evaluate", {
                        "expression": f"JSON.stringify(({evaluate}))", "returnByValue": True})
                    if "exceptionDetails" in got:
                        result.console_errors.append(f"evaluate failed: {got['exceptionDetails']}")
                    else:
                        result.value = _json.loads(got["result"].get("value", "null"))
                metrics = call("Page.getLayoutMetrics")
                size = metrics.get("cssContentSize") or metrics.get("contentSize", {})
                result.content_height = int(size.get("height", height))
                if screenshot is not None:
                    import base64

                    shot = call("Page.captureScreenshot", {
                        "format": "png", "captureBeyondViewport": True,
                        "clip": {"x": 0, "y": 0, "width": width,
                                 "height": min(max(result.content_height, 1), 12000), "scale": 1},
                    })
                    out = Path(screenshot)
                    out.write_bytes(base64.b64decode(shot["data"]))
                    result.screenshot = out
            return result
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except _subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            _shutil.rmtree(profile, ignore_errors=True)

    @staticmethod
    def _port(profile: Path, proc: _subprocess.Popen, timeout: float) -> int:
        marker = profile / "DevToolsActivePort"
        deadline = _time.monotonic() + timeout
        while _time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"chromium exited with status {proc.returncode} at start-up")
            if marker.exists():
                lines = marker.read_text().split()
                if lines and lines[0].isdigit():
                    return int(lines[0])
            _time.sleep(0.05)
        raise TimeoutError("chromium did not open its DevTools port")

    @staticmethod
    def _page_ws(port: int, timeout: float) -> str:
        deadline = _time.monotonic() + timeout
        while _time.monotonic() < deadline:
            with _urlreq.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as r:
                targets = _json.loads(r.read())
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            _time.sleep(0.05)
        raise TimeoutError("chromium opened no page")


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    """Headless Chromium for rendering HTML reports; skips with the reason when unavailable."""
    exe = os.environ.get("CORETECH_CHROMIUM") or _shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if exe is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium "
                    "fonts-noto-cjk); the HTML report rendering test needs it")
    try:
        import websockets.sync.client  # noqa: F401
    except ImportError:
        pytest.skip("the 'websockets' package is missing (pip install -e '.[test]')")
    return Chromium(exe)
