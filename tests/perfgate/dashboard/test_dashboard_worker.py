"""The heavy reads in a child process give what the in-process reads give."""

from __future__ import annotations

import json

import pytest

from perfgate.dashboard.tail import Cursor
from perfgate.dashboard.worker import HeavyReads, WorkerError


@pytest.mark.asyncio
async def test_child_and_thread_agree(fake_run) -> None:  # type: ignore[no-untyped-def]
    for s in range(3):
        fake_run.tick(sample=float(s))
    child, here = HeavyReads(), HeavyReads(in_process=True)
    rows, cursor = await child.catch_up(fake_run.run_dir, Cursor(0, 0, 0, 0))
    assert (rows, cursor) == await here.catch_up(fake_run.run_dir, Cursor(0, 0, 0, 0))
    assert [r["s"] for r in json.loads(rows)["seconds"]] == [1, 2] and cursor.window == 2
    figures = json.loads(await child.figures(fake_run.run_dir))
    assert figures == json.loads(await here.figures(fake_run.run_dir))
    assert figures["figures"][0]["id"] == "load"


@pytest.mark.asyncio
async def test_a_failing_child_says_why() -> None:
    with pytest.raises(WorkerError, match="exit 2: usage"):
        await HeavyReads()._child("nonsense")
