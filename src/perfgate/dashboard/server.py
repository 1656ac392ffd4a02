"""The dashboard's HTTP surface (aiohttp, in the run's own event loop).

=====================  ===================================================================
``GET /``              the page (HTML; its JS and CSS are package assets, no CDN)
``GET /assets/NAME``   the page's assets, ``plotly.min.js`` from the installed plotly
``GET /events``        SSE: ``tick`` (snapshot + new store rows, id = store cursor) each
                       second, ``end`` (verdict, report link); honours ``Last-Event-ID``
``GET /api/state``     JSON: the run, the latest snapshot, plateaus, cursor, the end
``GET /api/charts``    JSON: the report's chart figures for the run so far
``POST /api/abort``    JSON ``{reason, who, confirm: true}`` -> ``request_abort``, 202
``GET /report``        redirect to ``/run/report.html`` once the report exists
``GET /run/NAME``      files of the run directory (report, flamegraphs; not the store)
=====================  ===================================================================

The abort takes the same path as ``perfgate abort``: it writes ``abort.request`` in the
run directory and the controller, polling it every tick, stops the run (exit 2) with
who and why recorded. It only accepts ``application/json`` (a cross-site form cannot
send that without a CORS preflight, which this server never grants) from its own origin.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from perfgate.controller.abort import REQUEST_FILE, request_abort
from perfgate.dashboard.auth import loopback_host_middleware, token_middleware
from perfgate.dashboard.hub import NEAR_SECONDS, Hub
from perfgate.dashboard.planview import plan_view
from perfgate.dashboard.sse import comment, to_json
from perfgate.dashboard.worker import HeavyReads

__all__ = ["RunInfo", "build_app"]

KEEPALIVE_S = 15.0
MAX_REASON, MAX_WHO = 500, 80
HIDDEN = {"run.sqlite", "run.sqlite-wal", "run.sqlite-shm", REQUEST_FILE}
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html",
          ".svg": "image/svg+xml", ".json": "application/json", ".png": "image/png",
          ".txt": "text/plain", ".xml": "application/xml"}
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a ?token= URL must never leak in a Referer
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data: blob:; frame-ancestors 'none'",
}
_FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    run_dir: Path
    plan: str
    target: str
    total_s: float
    time_scale: float
    token_required: bool


def _asset(name: str) -> bytes | None:
    node = resources.files("perfgate.dashboard").joinpath("assets", name)
    return node.read_bytes() if node.is_file() else None


def _plotly_js() -> Path | None:
    node = resources.files("plotly").joinpath("package_data", "plotly.min.js")
    return Path(str(node)) if node.is_file() else None


def _report_asset(name: str) -> bytes | None:
    node = resources.files("perfgate.report").joinpath("assets", name)
    return node.read_bytes() if node.is_file() else None


def _content_type(name: str) -> str:
    return _TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def build_app(hub: Hub, info: RunInfo, *, token: str | None,
              heavy: HeavyReads | None = None) -> web.Application:
    heavy = heavy or HeavyReads(in_process=True)
    middlewares = [token_middleware(token)] if token else [loopback_host_middleware()]
    app = web.Application(middlewares=middlewares)

    async def page(request: web.Request) -> web.StreamResponse:
        body = _asset("index.html")
        assert body is not None, "perfgate.dashboard assets are missing from the install"
        return web.Response(body=body, content_type="text/html", headers=_HEADERS)

    async def asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == "plotly.min.js" and (path := _plotly_js()) is not None:
            return web.FileResponse(path, headers={"Cache-Control": "max-age=3600"})
        body = _report_asset("charts.js") if name == "report-charts.js" else _asset(name)
        if body is None or "/" in name or name.startswith("."):
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type=_content_type(name), headers=_HEADERS)

    async def events(request: web.Request) -> web.StreamResponse:
        last = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
        client = hub.connect(last)
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no"})
        await response.prepare(request)
        try:
            await response.write(b"retry: 1000\n\n")
            while True:
                try:
                    message = await asyncio.wait_for(client.queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    message = comment("keep-alive")
                if message is None:
                    break
                await response.write(message)
        except ConnectionResetError:
            return response
        finally:
            hub.disconnect(client)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await response.write_eof()
        return response

    async def state(request: web.Request) -> web.StreamResponse:
        body = {"run": {"run_id": info.run_id, "plan": info.plan, "target": info.target,
                        "total_s": info.total_s, "time_scale": info.time_scale,
                        "run_dir": str(info.run_dir), "token_required": info.token_required},
                "spec": plan_view(info.run_dir),
                "cursor": hub.cursor.encode(), "snapshot": hub.snapshot,
                "plateaus": hub.plateaus, "end": hub.end, "read_error": hub.read_error}
        return web.Response(text=to_json(body), content_type="application/json",
                            headers=_HEADERS)

    async def charts(request: web.Request) -> web.StreamResponse:
        small = hub.cursor.window <= NEAR_SECONDS
        return web.Response(text=await heavy.figures(info.run_dir, small=small),
                            content_type="application/json", headers=_HEADERS)

    async def abort(request: web.Request) -> web.StreamResponse:
        problem = _abort_problem(request, hub, info)
        if problem is not None:
            return web.json_response({"error": problem[1]}, status=problem[0])
        try:
            body: Any = await request.json()
        except ValueError:
            return web.json_response({"error": "the body must be JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "the body must be a JSON object"}, status=400)
        reason = str(body.get("reason") or "").strip()[:MAX_REASON]
        who = str(body.get("who") or "").strip()[:MAX_WHO] or "dashboard"
        if not reason:
            return web.json_response({"error": "an abort needs a reason"}, status=400)
        if body.get("confirm") is not True:
            return web.json_response({"error": "confirm the abort"}, status=400)
        request_abort(info.run_dir, reason, who)
        return web.json_response({"requested": True, "who": who, "reason": reason},
                                 status=202)

    async def report(request: web.Request) -> web.StreamResponse:
        if (info.run_dir / "report.html").is_file():
            raise web.HTTPFound("/run/report.html")
        done = hub.end is not None
        return web.Response(
            status=404, content_type="text/html", headers=_HEADERS,
            text="<!doctype html><meta charset=utf-8><title>report</title>"
                 + ("<meta http-equiv=refresh content=2>" if done else "")
                 + f"<p>No report yet in {info.run_dir}. "
                 + ("It is being written; this page retries." if done else
                    "It is written when the run ends.") + "</p>")

    async def run_file(request: web.Request) -> web.StreamResponse:
        rel = Path(request.match_info["path"])
        if rel.is_absolute() or ".." in rel.parts or rel.name in HIDDEN:
            raise web.HTTPNotFound()
        root = info.run_dir.resolve()
        path = (root / rel).resolve()
        if not path.is_file() or root not in path.parents:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={
            "Content-Type": _content_type(path.name), **_FILE_HEADERS})

    async def favicon(request: web.Request) -> web.StreamResponse:
        return web.Response(status=204)

    app.router.add_get("/", page)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/assets/{name}", asset)
    app.router.add_get("/events", events)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/charts", charts)
    app.router.add_post("/api/abort", abort)
    app.router.add_get("/report", report)
    app.router.add_get("/run/{path:.+}", run_file)
    return app


def _abort_problem(request: web.Request, hub: Hub, info: RunInfo) -> tuple[int, str] | None:
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        return 403, "cross-origin abort refused"
    if request.content_type != "application/json":
        return 415, "send the abort as application/json"
    if hub.end is not None:
        return 409, "the run is already over"
    if not info.run_dir.is_dir():
        return 409, "the run has not started yet"
    return None
