"""War-room notifications: payloads, retries with backoff, failures never stop a run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from guards_fakes import FakeTarget

from perfgate.controller.runner import Controller, RunConfig
from perfgate.engine.client import MockTransport
from perfgate.guards import build_hooks, war_room
from perfgate.guards.warroom import Notification, Notifier, Webhook
from perfgate.plan.loader import parse_plan
from perfgate.store.reader import RunReader


class Sink:
    def __init__(self) -> None:
        self.url = ""
        self.posts: list[dict[str, Any]] = []
        self.fail_first = 0


@pytest_asyncio.fixture
async def sink() -> Any:
    s = Sink()

    async def handle(request: web.Request) -> web.Response:
        if s.fail_first > 0:
            s.fail_first -= 1
            return web.Response(status=503)
        s.posts.append({"path": request.path, **await request.json()})
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    s.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield s
    await runner.cleanup()


@pytest.mark.asyncio
async def test_retries_with_exponential_backoff_then_delivers(sink: Sink) -> None:
    sleeps: list[float] = []

    async def fake_sleep(s: float) -> None:
        sleeps.append(s)

    sink.fail_first = 2
    n = Notifier([Webhook("slack", "slack", sink.url + "/slack")], retries=4, backoff_s=0.5,
                 sleep=fake_sleep)
    n.start()
    n.send(Notification("abort", "ABORT: error_rate", "critical"))
    await n.close()
    assert sleeps == [0.5, 1.0] and n.sent == 1
    assert sink.posts == [{"path": "/slack", "text": ":rotating_light: ABORT: error_rate"}]


@pytest.mark.asyncio
async def test_a_dead_webhook_is_logged_and_never_raises() -> None:
    failures: list[str] = []

    async def no_sleep(s: float) -> None:
        return None

    n = Notifier([Webhook("ops", "json", "http://127.0.0.1:9/services/T0/S3CRET")], retries=2,
                 sleep=no_sleep, on_failure=lambda hook, note, err: failures.append(err))
    n.start()
    n.send(Notification("start", "hello"))
    await n.close()
    assert n.failed == 1 and "after 3 attempts" in failures[0]
    assert "S3CRET" not in failures[0]  # a webhook URL is a secret


PLAN = """
name: warroom
run_tag: wr
target: {base_url: "http://127.0.0.1:9"}
schedule:
  arrival: uniform
  warmup: {rps: 20, duration: 20s}
  plateaus: [{rps: 20, duration: 40s}, {rps: 20, duration: 40s}]
families: {core: {timeout: 2s}}
mix: {reads: {family: core, weight: 1, endpoints: [{name: item, path: /items}]}}
criteria:
  - {name: core_p95, family: core, metric: p95, op: "<=", threshold: 120ms, min_samples: 10}
war_room:
  owner: "Perf lead: Pat"
  roles: {sre: Sam, finance: Kim}
  comms: {slack: "https://slack.example/bridge", zoom: "https://zoom.example/j/1"}
  dashboard: "http://127.0.0.1:8089/runs/{run_id}"
  webhooks:
    - {name: slack, kind: slack, url: "${HOOK}/slack"}
    - {name: ops, kind: json, url: "${HOOK}/json"}
    - {name: pager, kind: json, url: "${NOT_SET}/x"}
"""


@pytest.mark.asyncio
async def test_a_run_tells_the_war_room_everything(sink: Sink, tmp_path: Path) -> None:
    plan = parse_plan(PLAN)
    hooks = build_hooks(plan, time_scale=0.05, env={"HOOK": sink.url})
    room = war_room(hooks)
    assert room is not None
    controller = Controller(RunConfig(plan=plan, out_dir=tmp_path, time_scale=0.05),
                            transport=MockTransport(FakeTarget()), hooks=hooks)
    task_started = time.monotonic()

    async def chaos_later() -> None:  # what a chaos hook would do
        room.notify("chaos_start", "chaos: 20% packet loss on the AI egress for 60 s")

    import asyncio

    asyncio.get_running_loop().call_later(2.0, lambda: asyncio.ensure_future(chaos_later()))
    outcome = await controller.run()
    assert time.monotonic() - task_started < 15
    slack = [p["text"] for p in sink.posts if p["path"] == "/slack"]
    ops = [p for p in sink.posts if p["path"] == "/json"]
    assert len(slack) == len(ops) > 0
    assert "Dashboard: http://127.0.0.1:8089/runs/" + outcome.run_id in slack[0]
    assert "Owner (may abort): Perf lead: Pat" in slack[0] and "sre: Sam" in slack[0]
    kinds = [p["kind"] for p in ops]
    assert kinds[0] == "start" and kinds[-1] == "final"
    assert {"phase_start", "criterion_verdict", "chaos_start"} <= set(kinds)
    assert kinds.count("criterion_verdict") == 2
    assert ops[-1]["data"]["verdict"] in ("PASS", "INVALID") and ops[-1]["run_id"] == outcome.run_id
    with RunReader(outcome.run_dir) as reader:
        failed = reader.events("notification_failed")
        meta = reader.meta()
    assert [e.message for e in failed] == ["webhook pager disabled: environment variable "
                                           "NOT_SET is not set"]
    assert meta["notifications"]["sent"] == len(sink.posts)
    assert sink.url not in (outcome.run_dir / "run.sqlite").read_bytes().decode("latin-1")
