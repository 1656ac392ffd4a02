"""The guards hook on a fake clock: ramp discipline, safe RPS, triggers, observe mode."""

from __future__ import annotations

from typing import Any

import pytest

from perfgate.guards.hook import GuardsHook
from perfgate.guards.livedata import LoadData
from perfgate.guards.triggers import TriggerEvaluator
from perfgate.metrics.outcome import Outcome
from perfgate.metrics.window import Cell, SeriesKey, Window
from perfgate.plan.models import Plan
from perfgate.store.reader import RunReader


def second(t: int, plateau: str, *, ok: int = 20, errors: int = 0, ms: float = 20.0,
           family: str = "core") -> Window:
    c = Cell()
    for _ in range(ok):
        c.record(Outcome.OK, int(ms * 1000), int(ms * 1000))
    for _ in range(errors):
        c.record(Outcome.HTTP_5XX, 1000, 1000)
    return Window(t, SeriesKey(plateau, family, "reads", "item"), c)


def make_hook(plan: Plan, mode: str = "enforce", time_scale: float = 1.0) -> GuardsHook:
    load = LoadData()
    return GuardsHook(plan.criteria, TriggerEvaluator(plan.triggers, time_scale, load=load),
                      load, mode=mode)


@pytest.mark.asyncio
async def test_a_red_plateau_stops_the_ramp_and_the_last_green_one_is_safe(
        guarded_plan: Plan, make_run: Any) -> None:
    run = make_run(guarded_plan)
    hook = make_hook(guarded_plan)
    await hook.on_start(run.ctx)
    p0, p1, p2 = run.ctx.timeline  # 0-2 warm-up, 2-6 at 20 RPS, 6-10 at 30 RPS
    for t in range(1, 11):
        run.now = t + 0.001
        plateau = p0 if t <= 2 else p1 if t <= 6 else p2
        if run.now > plateau.end_s:
            await hook.on_phase_end(run.ctx, plateau, run.now)
        # p2 is slow: 300 ms against a 120 ms P95
        w = second(t - 1, plateau.id, ms=300.0 if plateau is p2 else 20.0)
        await hook.on_tick(run.ctx, run.now, None, [w])
    assert run.fails == [("p2", run.fails[0][1])]
    assert "core_p95: FAIL" in run.fails[0][1]
    run.writer.commit()
    with RunReader(run.ctx.run_dir) as reader:
        meta = reader.meta()
        rows = reader.criteria_results()
        plateaus = {p.id: p for p in reader.plateaus()}
        verdicts = reader.events("criterion_verdict")
    assert (meta["safe_rps"], meta["safe_plateau"]) == (20, "p1")
    assert {(r["plateau"], r["name"]): r["verdict"] for r in rows} == {
        ("p1", "core_p95"): "PASS", ("p1", "core_errors"): "PASS",
        ("p1", "markup"): "INSUFFICIENT",  # no budget here: nothing to judge
        ("p2", "core_p95"): "FAIL", ("p2", "core_errors"): "PASS",
        ("p2", "markup"): "INSUFFICIENT"}
    assert "p0" not in plateaus or plateaus["p0"].verdict is None  # warm-up never judged
    assert plateaus["p2"].verdict is not None
    assert plateaus["p2"].verdict["verdict"] == "FAIL"
    assert plateaus["p2"].verdict["families"] == {"ai": "INSUFFICIENT", "core": "FAIL"}
    assert [e.plateau for e in verdicts] == ["p1", "p2"] and verdicts[1].severity == "critical"


@pytest.mark.asyncio
async def test_observe_mode_judges_but_never_stops(guarded_plan: Plan, make_run: Any) -> None:
    run = make_run(guarded_plan)
    hook = make_hook(guarded_plan, mode="observe")
    await hook.on_start(run.ctx)
    p1 = run.ctx.timeline[1]
    for t in range(3, 7):
        run.now = t + 0.001
        await hook.on_tick(run.ctx, run.now, p1, [second(t - 1, "p1", ms=300.0)])
    run.now = 7.0
    await hook.on_phase_end(run.ctx, p1, run.now)
    await hook.on_tick(run.ctx, run.now, None, [])
    assert run.fails == [] and hook.verdicts["p1"]["verdict"] == "FAIL"
    assert hook.first_red == "p1" and hook.safe is None


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", ["enforce", "observe"])
async def test_an_error_storm_fires_after_its_for_duration(guarded_plan: Plan, make_run: Any,
                                                           mode: str) -> None:
    run = make_run(guarded_plan)
    hook = make_hook(guarded_plan, mode=mode)  # error_rate > 0.5% over 1m, for 2m
    await hook.on_start(run.ctx)
    fired_at = None
    for t in range(1, 400):
        run.now = t + 0.01
        # 100 requests a second; from second 100 on, 2 of them fail
        storm = t - 1 >= 100
        await hook.on_tick(run.ctx, run.now, run.ctx.timeline[1],
                           [second(t - 1, "p1", ok=98 if storm else 100, errors=2 * storm)])
        if run.aborts and fired_at is None:
            fired_at = run.now
    events = run.events()
    warning = next(e for e in events if e.kind == "trigger_warning")
    fired = next(e for e in events if e.kind == "trigger_fired")
    # the 1-minute rate passes 0.5% once 16 storm seconds are in it (2% x 16/60)
    assert warning.t == pytest.approx(116.01)
    assert fired.t == pytest.approx(236.01)  # held for 120 s
    assert fired.data["held_s"] == pytest.approx(120.0) and fired.data["latency_s"] == 0.0
    if mode == "enforce":
        assert fired_at == pytest.approx(236.01) and run.aborts[0].kind == "error_rate"
        assert run.aborts[0].evidence["value"] > 0.005
    else:
        assert run.aborts == [] and "observe mode" in fired.message
