"""One run's dashboard: start it in the run's loop, feed it snapshots, end it with the verdict.

``perfgate run`` and ``perfgate demo`` use it like this (see ``perfgate.cli.run_cmd``)::

    dash = Dashboard(DashboardOptions(), run_id=..., run_dir=..., ...)
    controller.subscribe(dash.on_snapshot)
    url = await dash.start()            # in the loop that will run the controller
    outcome = await controller.run()
    await dash.finish(end)              # verdict + report link; lingers for browsers
    await dash.close()

``finish`` sends the verdict and then, while a browser is still on the page, keeps the
server up for ``linger_s`` seconds so that its report link works; nobody watching, no
wait. The server stops with ``close`` (at the latest when the CLI exits).
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from perfgate.controller.runner import Controller
from perfgate.controller.snapshot import Snapshot
from perfgate.dashboard.bind import DEFAULT_BIND, Bind, new_token
from perfgate.dashboard.hub import Hub
from perfgate.dashboard.livecharts import LivePoints
from perfgate.dashboard.server import RunInfo, build_app
from perfgate.dashboard.worker import HeavyReads

__all__ = ["Dashboard", "DashboardOptions", "attach", "end_payload"]


@dataclass(frozen=True)
class DashboardOptions:
    bind: Bind = DEFAULT_BIND
    linger_s: float = 5.0  # after the verdict, while a browser is still on the page


def _browse_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return socket.gethostname()  # a wildcard bind is reached by the machine's name
    return f"[{host}]" if ":" in host else host


class Dashboard:
    def __init__(self, options: DashboardOptions, *, run_id: str, run_dir: Path, plan: str,
                 target: str, total_s: float, time_scale: float) -> None:
        self.options = options
        self.token: str | None = None if options.bind.loopback else new_token()
        live = LivePoints(total_s, time_scale)
        self.heavy = HeavyReads()  # whole-run reads in a child process, never in ours
        self.hub = Hub(run_dir, enrich=lambda tail: {"charts": live.points(tail)},
                       catch_up=self.heavy.catch_up)
        self.info = RunInfo(run_id, run_dir, plan, target, total_s, time_scale,
                            token_required=self.token is not None)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.extras: dict[str, Any] | None = None  # the run's live extras: gets our URL

    @property
    def url(self) -> str:
        """The link without the token: safe to post to the war room."""
        port = self.port if self.port is not None else self.options.bind.port
        return f"http://{_browse_host(self.options.bind.host)}:{port}/"

    @property
    def link(self) -> str:
        """The link to print once: with ``?token=`` when one is required."""
        return f"{self.url}?token={self.token}" if self.token else self.url

    def on_snapshot(self, snap: Snapshot) -> None:
        self.hub.on_snapshot(snap)

    async def start(self) -> str:
        """Bind and serve; OSError when the address is taken or not ours."""
        app = build_app(self.hub, self.info, token=self.token, heavy=self.heavy)
        # no access log: a ?token= must never reach a log. Handler cancellation: a
        # browser that closes its stream is dropped at once, not at the next write.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0,
                               handler_cancellation=True)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.options.bind.host, self.options.bind.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self.hub.start()
        if self.extras is not None:
            self.extras["dashboard"] = {"url": self.url}  # for the war room; no token
        return self.link

    async def start_and_describe(self) -> str:
        """Start; the line to print once (the link, with the token when one is needed),
        or why there is no dashboard (a busy port never stops a run)."""
        try:
            link = await self.start()
        except OSError as exc:
            return (f"dashboard not started: cannot listen on {self.options.bind} "
                    f"({exc.strerror or exc}); the run goes on without it")
        if self.token is None:
            return f"dashboard {link}"
        return (f"dashboard {link}  (token required on every request; shown only here, "
                "never stored: share it with the war room only)")

    async def finish(self, end: dict[str, Any]) -> None:
        if self._runner is None:
            return
        try:
            await asyncio.wait_for(self.hub.finish(end), timeout=max(self.options.linger_s, 1))
        except TimeoutError:
            return
        deadline = time.monotonic() + self.options.linger_s
        while self.hub.clients and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        await self.hub.stop()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


def end_payload(summary: dict[str, Any], exit_code: int, run_dir: Path) -> dict[str, Any]:
    """What the page shows when the run is over."""
    return {"verdict": summary.get("verdict"), "status": summary.get("status"),
            "reason": summary.get("reason"), "exit_code": exit_code,
            "report_url": "/report", "report_path": str(run_dir / "report.html"),
            "summary_path": str(run_dir / "summary.json")}


def attach(options: DashboardOptions, controller: Controller) -> Dashboard:
    """A dashboard for ``controller``'s run, subscribed to its snapshots; its token (if
    any) joins the run's secrets so that it is redacted from anything stored."""
    dash = Dashboard(options, run_id=controller.run_id, run_dir=controller.run_dir,
                     plan=controller.plan.name, target=controller.plan.target.base_url,
                     total_s=controller.total_s, time_scale=controller.config.time_scale)
    if dash.token is not None:
        controller.config.secrets = (*controller.config.secrets, dash.token)
    controller.subscribe(dash.on_snapshot)
    dash.extras = controller.extras
    return dash
