"""The HTTP surface in-process (aiohttp's test server on 127.0.0.1, port 0)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from perfgate.controller.abort import read_abort_request
from perfgate.dashboard.auth import COOKIE
from perfgate.dashboard.hub import Hub
from perfgate.dashboard.server import RunInfo, build_app

TOKEN = "t0ken-for-tests"
Factory = Callable[..., Any]


@pytest_asyncio.fixture
async def serve(fake_run) -> AsyncIterator[Factory]:  # type: ignore[no-untyped-def]
    started: list[tuple[TestClient[Any, Any], Hub]] = []

    async def make(token: str | None = None) -> tuple[TestClient[Any, Any], Hub]:
        hub = Hub(fake_run.run_dir)
        hub.start()
        info = RunInfo("fake-run", fake_run.run_dir, "fake", "http://127.0.0.1:1", 20, 1,
                       token_required=token is not None)
        client = TestClient(TestServer(build_app(hub, info, token=token), host="127.0.0.1"))
        await client.start_server()
        started.append((client, hub))
        return client, hub

    yield make
    for client, hub in started:
        await hub.stop()
        await client.close()


@pytest.mark.asyncio
async def test_page_and_assets_are_served_without_a_cdn(serve) -> None:  # type: ignore[no-untyped-def]
    client, _ = await serve()
    page = await client.get("/")
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    html = await page.text()
    assert "http://" not in html and "https://" not in html  # nothing from the network
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    for name in ("plotly.min.js", "report-charts.js", "dashboard.js", "tiles.js", "charts.js",
                 "format.js", "dashboard.css"):
        r = await client.get(f"/assets/{name}")
        assert r.status == 200, name
        assert f'/assets/{name}"' in html, name
    assert "Plotly" in (await (await client.get("/assets/plotly.min.js")).text())[:5000]
    assert (await client.get("/assets/nope.js")).status == 404
    assert (await client.get("/favicon.ico")).status == 204


@pytest.mark.asyncio
async def test_token_required_on_every_request(serve) -> None:  # type: ignore[no-untyped-def]
    client, _ = await serve(token=TOKEN)
    for path in ("/", "/events", "/api/state", "/api/charts", "/assets/dashboard.js",
                 "/report", "/run/plan.resolved.json"):
        r = await client.get(path)
        assert r.status == 401, path
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await client.post("/api/abort", json={"reason": "x", "confirm": True})).status == 401
    assert (await client.get("/", headers={"Authorization": "Bearer nope"})).status == 401
    assert (await client.get("/api/state",
                             headers={"Authorization": f"Bearer {TOKEN}"})).status == 200
    first = await client.get(f"/?token={TOKEN}")
    assert first.status == 200
    morsel = first.cookies[COOKIE]
    assert morsel.value == TOKEN and morsel["httponly"] and morsel["samesite"] == "Strict"
    # the cookie now carries it (the page's own requests, the stream, the abort)
    assert (await client.get("/api/state")).status == 200
    client.session.cookie_jar.clear()
    assert (await client.get("/api/state")).status == 401


@pytest.mark.asyncio
async def test_abort_needs_reason_confirmation_json_and_our_origin(serve, fake_run) -> None:  # type: ignore[no-untyped-def]
    client, hub = await serve()
    run_dir: Path = fake_run.run_dir
    bad = [
        ({"data": "reason=x&confirm=true"}, 415),
        ({"json": {"reason": "x", "confirm": True},
          "headers": {"Origin": "http://evil.example"}}, 403),
        ({"json": {"reason": "  ", "confirm": True}}, 400),
        ({"json": {"reason": "x"}}, 400),
        ({"json": {"reason": "x", "confirm": "yes"}}, 400),
        ({"json": ["x"]}, 400),
    ]
    for kwargs, status in bad:
        r = await client.post("/api/abort", **kwargs)
        assert r.status == status, (kwargs, await r.text())
        assert read_abort_request(run_dir) is None
    r = await client.post("/api/abort", json={"reason": "  p95 is on fire ", "confirm": True})
    assert r.status == 202 and (await r.json())["who"] == "dashboard"
    request = read_abort_request(run_dir)
    assert request is not None
    assert (request["who"], request["reason"]) == ("dashboard", "p95 is on fire")
    own = str(client.make_url("/")).rstrip("/")
    r = await client.post("/api/abort", json={"reason": "again", "who": "dana", "confirm": True},
                          headers={"Origin": own})
    assert r.status == 202 and read_abort_request(run_dir)["who"] == "dana"  # type: ignore[index]
    await hub.finish({"verdict": "ABORTED"})
    assert (await client.post("/api/abort", json={"reason": "x", "confirm": True})).status == 409


@pytest.mark.asyncio
async def test_state_stream_and_resume(serve, fake_run) -> None:  # type: ignore[no-untyped-def]
    client, _ = await serve()
    fake_run.tick()
    fake_run.tick()
    state = await (await client.get("/api/state")).json()
    assert state["run"]["run_id"] == "fake-run" and state["run"]["token_required"] is False
    assert [c["name"] for c in state["spec"]["criteria"]] == ["core_p95"]
    assert state["spec"]["criteria"][0]["what"] == "p95 <= 120ms"
    assert state["spec"]["triggers"][0]["what"] == "error_rate > 0.5% for 120 s"
    assert state["spec"]["budget"] == {"hard_cap_usd": "500", "soft_alert_usd": "350"}

    async def first_event(headers: dict[str, str]) -> tuple[str, str]:
        r = await client.get("/events", headers=headers)
        assert r.headers["Content-Type"] == "text/event-stream"
        text = ""
        while "\n\nid:" not in text and not text.rstrip().endswith("}"):
            text += (await asyncio.wait_for(r.content.readany(), 5)).decode()
        r.close()
        event = text.split("\n\n")[1]
        return event.split("\n")[0].removeprefix("id: "), event

    cursor, event = await first_event({})
    assert "event: tick" in event and '"s":0' in event and '"s":1' in event
    fake_run.tick()
    _, event = await first_event({"Last-Event-ID": cursor})
    assert '"s":2' in event and '"s":1' not in event and '"s":0' not in event


@pytest.mark.asyncio
async def test_report_and_run_files(serve, fake_run) -> None:  # type: ignore[no-untyped-def]
    client, hub = await serve()
    r = await client.get("/report", allow_redirects=False)
    assert r.status == 404 and "written when the run ends" in await r.text()
    await hub.finish({"verdict": "PASS"})
    r = await client.get("/report", allow_redirects=False)
    assert r.status == 404 and "retries" in await r.text()
    (fake_run.run_dir / "report.html").write_text("<h1>the report</h1>")
    (fake_run.run_dir / "captures").mkdir()
    (fake_run.run_dir / "captures" / "flame.svg").write_text("<svg/>")
    r = await client.get("/report", allow_redirects=False)
    assert r.status == 302 and r.headers["Location"] == "/run/report.html"
    assert "the report" in await (await client.get("/report")).text()
    svg = await client.get("/run/captures/flame.svg")
    assert svg.status == 200 and svg.headers["Content-Type"] == "image/svg+xml"
    for hidden in ("run.sqlite", "abort.request", "../fake-run/run.sqlite",
                   "captures/../run.sqlite", "nope.html"):
        assert (await client.get(f"/run/{hidden}")).status == 404, hidden


@pytest.mark.asyncio
async def test_charts_are_the_reports_figures(serve, fake_run) -> None:  # type: ignore[no-untyped-def]
    client, _ = await serve()
    for _ in range(4):
        fake_run.tick(sample=50.0)
    body = await (await client.get("/api/charts")).json()
    ids = [f["id"] for f in body["figures"]]
    assert ids[:2] == ["load", "latency-ai"] and "spend" in ids and "cpu" in ids
    load = body["figures"][0]
    achieved = next(t for t in load["data"] if t["meta"] == "rps.achieved")
    target = next(t for t in load["data"] if t["meta"] == "rps.target")
    assert achieved["x"] == [0, 1, 2, 3]  # measured so far, not zeros to the planned end
    assert target["x"][-1] == 19  # the plan ahead is shown
    assert body["through_s"] == 3


@pytest.mark.asyncio
async def test_loopback_dashboard_refuses_rebound_host_names(serve) -> None:  # type: ignore[no-untyped-def]
    client, _ = await serve()
    for host in ("evil.example", "evil.example:8089", "10.0.0.5:8089"):
        r = await client.get("/api/state", headers={"Host": host})
        assert r.status == 421, host
    for host in ("127.0.0.1:8089", "localhost:8089", "[::1]:8089", "127.0.0.2"):
        assert (await client.get("/api/state", headers={"Host": host})).status == 200, host
