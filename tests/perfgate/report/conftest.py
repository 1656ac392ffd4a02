"""Report test fixtures: synthetic stores (small, with known answers) and a headless
Chromium driven over the DevTools protocol (aiohttp's websocket client, no new deps).

Plain functions too: the screenshot helper script loads this file with runpy.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from perfgate.report.synthetic import SyntheticRun, write_store

#: A short perf-6b-shaped run: warm-up 20 s, five 60-s plateaus (enough samples for P99
#: at the higher plateaus only: INSUFFICIENT shows up), rates as perf-6b's.
SMALL = SyntheticRun(run_id="small", warmup=(10.0, 20.0),
                     plateaus=((21.0, 60.0), (31.0, 60.0), (41.0, 60.0), (52.0, 60.0),
                               (62.0, 60.0)), telemetry_every_s=2.0)


def small_store(tmp: Path, **changes: Any) -> Path:
    return write_store(tmp, replace(SMALL, **changes))


@pytest.fixture(name="small_run", scope="session")
def small_run_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One passing small run, shared (read-only) by the tests of this package."""
    return small_store(tmp_path_factory.mktemp("small") / "run")


@pytest.fixture(name="make_store")
def make_store_fixture(tmp_path: Path) -> Callable[..., Path]:
    counter = itertools.count()

    def make(**changes: Any) -> Path:
        return small_store(tmp_path / f"run{next(counter)}", **changes)

    return make


# -- headless Chromium over the DevTools protocol -----------------------------------------


def chromium_path() -> str | None:
    return os.environ.get("PERFGATE_CHROMIUM") or shutil.which("chromium") or \
        shutil.which("chromium-browser")


class Page:
    """One tab: send DevTools commands, collect console errors and network requests."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, session: str) -> None:
        self.ws, self.session = ws, session
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.loaded = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
                continue
            method, params = data.get("method"), data.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                self.errors.append(str(details.get("exception", {}).get("description")
                                       or details.get("text")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                self.errors.append(" ".join(str(a.get("value", a.get("description")))
                                            for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                self.errors.append(f"{params['entry'].get('source')}: {params['entry']['text']}")
            elif method == "Network.requestWillBeSent":
                self.requests.append(params["request"]["url"])
            elif method == "Page.loadEventFired":
                self.loaded.set()

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = fut
        await self.ws.send_str(json.dumps({"id": ident, "method": method, "params": params,
                                           "sessionId": self.session}))
        reply = await asyncio.wait_for(fut, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    async def eval(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression,
                                 awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def open(self, url: str, width: int = 1400, height: int = 1000) -> None:
        for domain in ("Page", "Runtime", "Log", "Network"):
            await self.send(f"{domain}.enable")
        await self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=False)
        self.loaded.clear()
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(self.loaded.wait(), 60)

    async def drag(self, x0: float, x1: float, y: float, steps: int = 8) -> None:
        mouse = "Input.dispatchMouseEvent"
        await self.send(mouse, type="mouseMoved", x=x0, y=y)
        await self.send(mouse, type="mousePressed", x=x0, y=y, button="left", clickCount=1)
        for i in range(1, steps + 1):
            await self.send(mouse, type="mouseMoved", x=x0 + (x1 - x0) * i / steps, y=y,
                            button="left", buttons=1)
        await self.send(mouse, type="mouseReleased", x=x1, y=y, button="left", clickCount=1)

    async def screenshot(self, path: Path, clip: dict[str, float] | None = None) -> Path:
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
        if clip is not None:
            params["clip"] = {**clip, "scale": 1}
        data = await self.send("Page.captureScreenshot", **params)
        path.write_bytes(base64.b64decode(data["data"]))
        return path


@contextlib.asynccontextmanager
async def browser_page(browser: str) -> AsyncIterator[Page]:
    """Launch headless Chromium (offline: no background networking), yield one tab."""
    profile = tempfile.mkdtemp(prefix="perfgate-cdp-")
    argv = [browser, "--headless", "--disable-gpu", "--remote-debugging-port=0",
            f"--user-data-dir={profile}", "--disable-background-networking",
            "--disable-component-update", "--disable-default-apps", "--disable-sync",
            "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
            "--mute-audio", "about:blank"]
    if os.geteuid() == 0:
        argv.insert(1, "--no-sandbox")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not start (exit {proc.poll()})")
            await asyncio.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        async with aiohttp.ClientSession() as http, \
                http.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0) as ws:
            ids = itertools.count(1)

            async def call(method: str, **params: Any) -> dict[str, Any]:
                ident = next(ids) + 1_000_000
                await ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
                while True:
                    msg = json.loads((await ws.receive(timeout=30)).data)
                    if msg.get("id") == ident:
                        return dict(msg["result"])

            target = await call("Target.createTarget", url="about:blank")
            attached = await call("Target.attachToTarget", targetId=target["targetId"],
                                  flatten=True)
            page = Page(ws, attached["sessionId"])
            try:
                yield page
            finally:
                page._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await page._reader
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


BrowserPage = Callable[[str], contextlib.AbstractAsyncContextManager[Page]]


@pytest.fixture(name="browser_page")
def browser_page_fixture() -> BrowserPage:
    """``async with browser_page(chromium) as page``: a tab of a fresh headless Chromium."""
    return browser_page


@pytest.fixture(name="chromium")
def chromium_fixture() -> Iterator[str]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium not installed (apt-get install chromium); CI runs this test")
    yield path
