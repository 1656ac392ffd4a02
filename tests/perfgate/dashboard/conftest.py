"""Dashboard test helpers: a headless Chromium driven over the DevTools protocol, and a
``perfgate run`` in a child process whose dashboard link is read from its output.

Chromium is Debian's (``/usr/bin/chromium``); without it the browser tests skip, except
under ``CI=true``, where they fail. No new dependency: aiohttp's websocket client speaks
the protocol.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

CHROMIUM = os.environ.get("PERFGATE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def need_chromium() -> str:
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"chromium not found at {CHROMIUM}: CI must install it (.ci/run)")
    pytest.skip("headless Chromium (Debian package `chromium`) is not installed")


class Page:
    """One tab: send commands, collect console errors and exceptions."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}
        self.errors: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self._ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
                continue
            method = data.get("method", "")
            params = data.get("params", {})
            if method == "Runtime.exceptionThrown":
                self.errors.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                self.errors.append(" ".join(str(a.get("value", a.get("description")))
                                            for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                self.errors.append(params["entry"].get("text", "") + " "
                                   + params["entry"].get("url", ""))
            for fut in self._events.pop(method, []):
                if not fut.done():
                    fut.set_result(params)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        n = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[n] = fut
        await self._ws.send_str(json.dumps({"id": n, "method": method, "params": params}))
        reply = await asyncio.wait_for(fut, 20)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    def expect(self, method: str) -> asyncio.Future[dict[str, Any]]:
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._events.setdefault(method, []).append(fut)
        return fut

    async def goto(self, url: str) -> None:
        loaded = self.expect("Page.loadEventFired")
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(loaded, 20)

    async def eval(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression,
                                 returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 15.0) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.eval(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"timed out waiting for {expression}")
            await asyncio.sleep(0.1)

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    async def close(self) -> None:
        await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@dataclass
class Browser:
    proc: asyncio.subprocess.Process
    port: int
    session: aiohttp.ClientSession
    pages: list[Page] = field(default_factory=list)

    async def new_page(self, width: int = 1600, height: int = 1300) -> Page:
        base = f"http://127.0.0.1:{self.port}"
        async with self.session.put(f"{base}/json/new?about:blank") as r:
            target = await r.json()
        ws = await self.session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(ws)
        self.pages.append(page)
        for domain in ("Page", "Runtime", "Log", "Network"):
            await page.send(f"{domain}.enable")
        await page.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=False)
        return page


@pytest_asyncio.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    exe = need_chromium()
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    proc = await asyncio.create_subprocess_exec(
        exe, "--headless", "--remote-debugging-port=0", f"--user-data-dir={profile}",
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1600,1300", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    port_file = profile / "DevToolsActivePort"
    for _ in range(200):
        if port_file.is_file() and port_file.read_text().strip():
            break
        await asyncio.sleep(0.05)
    else:
        proc.kill()
        await proc.wait()
        pytest.fail("chromium did not open its DevTools port")
    port = int(port_file.read_text().split()[0])
    session = aiohttp.ClientSession()
    b = Browser(proc, port, session)
    try:
        yield b
    finally:
        for page in b.pages:
            with contextlib.suppress(Exception):
                await page.close()
        await session.close()
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@dataclass
class CliRun:
    proc: asyncio.subprocess.Process
    lines: list[str]
    link: str

    @property
    def base(self) -> str:
        return self.link.split("?")[0].rstrip("/")

    async def state(self, token: str | None = None) -> dict[str, Any]:
        """The dashboard's /api/state (over loopback: 127.0.0.1 whatever the bind)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = re.sub(r"//[^/]+:", "//127.0.0.1:", self.base) + "/api/state"
        async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as r:
            r.raise_for_status()
            return dict(await r.json())

    async def finish(self, timeout: float = 60) -> int:
        async def drain() -> None:
            assert self.proc.stdout is not None
            async for raw in self.proc.stdout:
                self.lines.append(raw.decode(errors="replace").rstrip())
        await asyncio.wait_for(drain(), timeout)
        return await asyncio.wait_for(self.proc.wait(), timeout)


_LINK = re.compile(r"dashboard (http://\S+)")


async def start_cli_run(plan: Path, out: Path, *args: str) -> CliRun:
    """``perfgate run PLAN --out OUT ARGS`` in a child; returns once the link is printed."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", "NO_COLOR": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "perfgate", "run", str(plan), "--out", str(out),
        "--skip-preflight", "--metrics-port", "0", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env)
    assert proc.stdout is not None
    lines: list[str] = []
    link = None
    while link is None:
        raw = await asyncio.wait_for(proc.stdout.readline(), 30)
        if not raw:
            raise AssertionError("perfgate run ended before printing a dashboard link:\n"
                                 + "\n".join(lines))
        line = raw.decode(errors="replace").rstrip()
        lines.append(line)
        if m := _LINK.search(line):
            link = m.group(1)
    return CliRun(proc, lines, link)


@pytest.fixture
def cli_run() -> Any:
    return start_cli_run


# -- a synthetic store, written second by second as the controller would ------------------

class FakeRun:
    """A run store written by the real ``RunWriter``; ``tick()`` commits one more second."""

    def __init__(self, run_dir: Path) -> None:
        from perfgate.store.writer import RunWriter

        self.run_dir = run_dir
        plan = {"name": "fake", "criteria": [{"name": "core_p95", "family": "core",
                                               "metric": "p95", "op": "<=",
                                               "threshold": "120ms"}],
                "triggers": {"rules": [{"name": "errors", "signal": "error_rate", "op": ">",
                                        "threshold": "0.5%", "for": 120}]},
                "budget": {"hard_cap_usd": "500", "soft_alert_usd": "350"}}
        self.writer = RunWriter.create(run_dir, "fake-run", json.dumps(plan),
                                       {"plan_name": "fake", "total_s": 20, "time_scale": 1})
        self.writer.upsert_plateau("p0", 0, "warm-up", 10, 0, 2, "running")
        self.writer.upsert_plateau("p1", 1, "plateau 1", 20, 2, 20, "pending")
        self.writer.commit()
        self.second = 0

    def tick(self, *, sample: float | None = None, event: str | None = None) -> int:
        from perfgate.metrics import Cell, Outcome, SeriesKey, Window

        s = self.second
        plateau = "p0" if s < 2 else "p1"
        if s == 2:
            self.writer.upsert_plateau("p0", 0, "warm-up", 10, 0, 2, "done")
            self.writer.upsert_plateau("p1", 1, "plateau 1", 20, 2, 20, "running")
        windows = []
        for family, endpoint, base in (("core", "item", 1000), ("ai", "gen", 50_000)):
            cell = Cell()
            cell.add_sent(10)
            for j in range(9):
                cell.record(Outcome.OK, base + 100 * j + s, base)
            cell.record(Outcome.HTTP_5XX if family == "core" else Outcome.TIMEOUT, base, base)
            windows.append(Window(s, SeriesKey(plateau, family, family, endpoint), cell))
        self.writer.add_windows(windows)
        self.writer.add_generator_sample(s, loop_lag_p99_us=2000, loop_lag_max_us=3000,
                                         cpu_percent=12.5, rss_bytes=50_000_000, inflight=3,
                                         target_rps=10 if s < 2 else 20)
        if sample is not None:
            self.writer.add_sample(s + 0.5, "telemetry", "cpu_percent", sample)
            self.writer.add_sample(s + 0.5, "cost", "spend_usd", sample / 100)
        if event is not None:
            self.writer.add_event(s + 0.5, event, f"{event} at {s}", severity="warning",
                                  plateau=plateau)
        self.writer.commit()
        self.second += 1
        return s

    def close(self, status: str = "completed") -> None:
        self.writer.close(status)


@pytest.fixture
def fake_run(tmp_path: Path) -> Iterator[FakeRun]:
    run = FakeRun(tmp_path / "fake-run")
    yield run
    if not run.writer.closed:
        run.writer.close("completed")
