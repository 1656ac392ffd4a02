"""Fixtures for the guards tests: a small plan with AI endpoints, a fake run context on a
real store, AI response headers as the target contract writes them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from guards_fakes import GUARDED_PLAN

from perfgate.controller.abort import AbortReason
from perfgate.controller.hooks import RunContext
from perfgate.engine.timeline import build_timeline
from perfgate.plan.loader import parse_plan
from perfgate.plan.models import Plan
from perfgate.store.writer import RunWriter


@pytest.fixture
def guarded_plan() -> Plan:
    return parse_plan(GUARDED_PLAN, "guarded.yaml")


@dataclass
class FakeRun:
    """A RunContext on a real store, with a settable clock and recorded abort/fail."""

    ctx: RunContext
    writer: RunWriter
    now: float = 0.0
    aborts: list[AbortReason] = field(default_factory=list)
    fails: list[tuple[str, str]] = field(default_factory=list)

    def events(self, kind: str | None = None) -> list[Any]:
        from perfgate.store.reader import RunReader

        self.writer.commit()
        with RunReader(self.ctx.run_dir) as reader:
            return reader.events(kind)


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[Any]:
    made: list[FakeRun] = []

    def factory(plan: Plan, time_scale: float = 1.0, name: str = "run-1") -> FakeRun:
        run_dir = tmp_path / name
        writer = RunWriter.create(run_dir, name, plan.model_dump_json(by_alias=True), {})
        holder: dict[str, FakeRun] = {}
        ctx = RunContext(
            plan=plan, run_id=name, run_dir=run_dir,
            timeline=build_timeline(plan.schedule, time_scale), time_scale=time_scale,
            writer=writer, now=lambda: holder["run"].now,
            abort=lambda reason: holder["run"].aborts.append(reason),
            fail=lambda plateau, why: holder["run"].fails.append((plateau, why)))
        run = holder["run"] = FakeRun(ctx, writer)
        made.append(run)
        return run

    yield factory
    for run in made:
        if not run.writer.closed:
            run.writer.close("completed")
