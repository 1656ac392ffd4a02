"""The fan-out: every browser gets each second once, catch-up from its own cursor."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from perfgate.controller.snapshot import Snapshot
from perfgate.dashboard.hub import MAX_BACKLOG, NEAR_SECONDS, Client, Hub
from perfgate.dashboard.sse import to_json
from perfgate.dashboard.tail import Cursor, read_tail


def snap(t: float, sent: int = 0) -> Snapshot:
    return Snapshot(run_id="fake-run", t=t, total_s=20, phase_id="p1", phase_name="plateau 1",
                    phase_elapsed_s=t, phase_remaining_s=20 - t, target_rps=20,
                    achieved_rps=20, inflight=1, sent=sent, dropped=0, completed=sent,
                    loop_lag_p99_ms=1.0, cpu_percent=5.0, extras={"cost": {"spend_usd": 1.5}})


def parse(message: bytes | None) -> tuple[str, str | None, dict[str, Any]]:
    assert message is not None
    fields = dict(line.split(": ", 1) for line in message.decode().strip().split("\n"))
    return fields["event"], fields.get("id"), json.loads(fields["data"])


async def next_message(client: Client) -> tuple[str, str | None, dict[str, Any]]:
    return parse(await asyncio.wait_for(client.queue.get(), 5))


@pytest.mark.asyncio
async def test_catch_up_then_ticks_without_gaps_or_repeats(fake_run) -> None:  # type: ignore[no-untyped-def]
    hub = Hub(fake_run.run_dir)
    hub.start()
    try:
        fake_run.tick()
        fake_run.tick(event="trigger_warning")
        first = hub.connect(None)
        kind, first_id, data = await next_message(first)
        assert kind == "tick" and data["snapshot"] is None  # no snapshot yet, rows already
        assert [r["s"] for r in data["seconds"]] == [0, 1]
        assert Cursor.parse(first_id).window == 1
        for t in (2, 3):
            fake_run.tick(sample=float(t))
            hub.on_snapshot(snap(t + 0.001, sent=20 * (t + 1)))
            kind, cursor_id, data = await next_message(first)
            assert [r["s"] for r in data["seconds"]] == [t]
            assert data["snapshot"]["t"] == pytest.approx(t + 0.001)
            assert data["snapshot"]["extras"]["cost"]["spend_usd"] == 1.5
            assert [s["name"] for s in data["samples"]] == ["cpu_percent", "spend_usd"]
        # a browser that reconnects with the id of second 1 gets 2 and 3 from the store,
        # and the latest snapshot
        again = hub.connect(first_id)
        kind, cursor_id, data = await next_message(again)
        assert [r["s"] for r in data["seconds"]] == [2, 3]
        assert [g["s"] for g in data["generator"]] == [2, 3]
        assert data["snapshot"]["sent"] == 80
        assert Cursor.parse(cursor_id).window == 3
        # both get the next second exactly once
        fake_run.tick()
        hub.on_snapshot(snap(4.001, sent=100))
        for client in (first, again):
            _, _, data = await next_message(client)
            assert [r["s"] for r in data["seconds"]] == [4]
        assert hub.clients == 2
        await hub.finish({"verdict": "PASS"})
        for client in (first, again):
            kind, _, data = await next_message(client)
            assert (kind, data["verdict"]) == ("end", "PASS")
        late = hub.connect(None)  # after the end: the whole run, then the verdict
        kind, _, data = await next_message(late)
        assert [r["s"] for r in data["seconds"]] == [0, 1, 2, 3, 4]
        assert (await next_message(late))[0] == "end"
    finally:
        await hub.stop()
    assert await first.queue.get() is None  # stop ends every stream


@pytest.mark.asyncio
async def test_snapshots_coalesce_rows_do_not(fake_run) -> None:  # type: ignore[no-untyped-def]
    hub = Hub(fake_run.run_dir)
    client = hub.connect(None)
    assert client.closed  # not started: the stream ends at once
    hub.start()
    try:
        c = hub.connect(None)
        await next_message(c)
        for t in range(3):  # three ticks before the pump runs: one message, all rows
            fake_run.tick()
            hub.on_snapshot(snap(t + 0.001))
        await hub.drain()
        _, _, data = await next_message(c)
        assert [r["s"] for r in data["seconds"]] == [0, 1, 2]
        assert data["snapshot"]["t"] == pytest.approx(2.001)
        assert c.queue.empty()
    finally:
        await hub.stop()


@pytest.mark.asyncio
async def test_a_broken_store_read_is_reported_not_fatal(tmp_path: Path) -> None:
    calls = []

    def failing(run_dir: Path, cursor: Cursor) -> tuple[dict[str, Any], Cursor]:
        calls.append(cursor)
        raise OSError("disk on fire")

    hub = Hub(tmp_path, read=failing)
    hub.start()
    try:
        c = hub.connect(None)
        _, _, data = await next_message(c)
        assert data["read_error"] == "OSError: disk on fire" and data["seconds"] == []
        hub.on_snapshot(snap(1.0, sent=5))
        _, _, data = await next_message(c)
        assert data["snapshot"]["sent"] == 5  # the tiles still update
    finally:
        await hub.stop()
    assert calls


@pytest.mark.asyncio
async def test_a_browser_too_far_behind_is_dropped(tmp_path: Path) -> None:
    hub = Hub(tmp_path)
    hub.start()
    try:
        c = hub.connect(None)
        await next_message(c)
        for t in range(MAX_BACKLOG + 2):
            hub.on_snapshot(snap(float(t)))
            await hub.drain()
        assert c.closed
        messages = [c.queue.get_nowait() for _ in range(c.queue.qsize())]
        assert messages[-1] is None and len(messages) == MAX_BACKLOG + 1
        assert hub.clients == 0
    finally:
        await hub.stop()


@pytest.mark.asyncio
async def test_a_late_browser_is_caught_up_off_the_loop(fake_run) -> None:  # type: ignore[no-untyped-def]
    asked: list[Cursor] = []

    async def heavy(run_dir: Path, cursor: Cursor) -> tuple[str, Cursor]:
        asked.append(cursor)
        tail, new = read_tail(run_dir, cursor)
        await asyncio.sleep(0.2)  # slow: ticks go on meanwhile
        return to_json(tail), new

    hub = Hub(fake_run.run_dir, catch_up=heavy)
    hub.start()
    try:
        for _ in range(NEAR_SECONDS + 5):
            fake_run.tick()
        hub.on_snapshot(snap(float(NEAR_SECONDS + 5)))
        await hub.drain()
        near = hub.connect(f"{NEAR_SECONDS}.{NEAR_SECONDS}.0.0")  # 4 s behind: a thread read
        _, _, data = await next_message(near)
        assert [r["s"] for r in data["seconds"]] == list(range(NEAR_SECONDS + 1, NEAR_SECONDS + 5))
        assert asked == []
        late = hub.connect(None)  # the whole run: the heavy reader
        fake_run.tick()  # a second committed and ticked while the heavy read runs
        hub.on_snapshot(snap(float(NEAR_SECONDS + 6)))
        _, _, data = await next_message(late)
        seconds = [r["s"] for r in data["seconds"]]
        while seconds[-1] < NEAR_SECONDS + 5:  # the top-up, if the tick came first
            _, _, more = await next_message(late)
            seconds += [r["s"] for r in more["seconds"]]
        assert seconds == list(range(NEAR_SECONDS + 6)) and asked == [Cursor()]
        fake_run.tick()
        hub.on_snapshot(snap(float(NEAR_SECONDS + 7)))
        _, _, data = await next_message(late)
        assert [r["s"] for r in data["seconds"]] == [NEAR_SECONDS + 6]
    finally:
        await hub.stop()
