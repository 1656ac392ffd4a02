from __future__ import annotations

import itertools

import pytest

from perfgate.engine.timeline import build_timeline, phase_at, total_duration
from perfgate.plan.models import Plan, ScheduleSpec, Stage


def test_perf6b_timeline(perf6b: Plan) -> None:
    tl = build_timeline(perf6b.schedule)
    assert [p.id for p in tl] == ["p0", "p1", "p2", "p3", "p4", "p5"]
    assert [p.rps for p in tl] == [10, 21, 31, 41, 52, 62]
    assert tl[0].warmup and not any(p.warmup for p in tl[1:])
    assert (tl[0].start_s, tl[0].end_s) == (0, 300)
    assert (tl[1].start_s, tl[1].end_s) == (300, 1320)
    assert all(a.end_s == b.start_s for a, b in itertools.pairwise(tl))
    assert total_duration(tl) == 300 + 5 * 17 * 60


def test_time_scale_multiplies_durations_not_rates(perf6b: Plan) -> None:
    full = build_timeline(perf6b.schedule)
    fast = build_timeline(perf6b.schedule, time_scale=0.01)
    assert [p.rps for p in fast] == [p.rps for p in full]
    for f, s in zip(full, fast, strict=True):
        assert s.duration_s == pytest.approx(f.duration_s * 0.01)
    assert total_duration(fast) == pytest.approx(54.0)


def test_without_warmup_plateaus_are_p1_onwards() -> None:
    sched = ScheduleSpec(plateaus=[Stage(rps=5, duration=2), Stage(rps=7, duration=3, name="x")])
    tl = build_timeline(sched)
    assert [(p.id, p.index, p.name) for p in tl] == [("p1", 1, "plateau 1"), ("p2", 2, "x")]
    assert tl[0].start_s == 0


def test_phase_at_boundaries() -> None:
    sched = ScheduleSpec(warmup=Stage(rps=1, duration=1),
                         plateaus=[Stage(rps=2, duration=2), Stage(rps=3, duration=3)])
    tl = build_timeline(sched)
    assert phase_at(tl, -0.001) is None
    assert phase_at(tl, 0).id == "p0"  # type: ignore[union-attr]
    assert phase_at(tl, 0.999).id == "p0"  # type: ignore[union-attr]
    assert phase_at(tl, 1.0).id == "p1"  # type: ignore[union-attr]
    assert phase_at(tl, 3.0).id == "p2"  # type: ignore[union-attr]
    assert phase_at(tl, 5.999).id == "p2"  # type: ignore[union-attr]
    assert phase_at(tl, 6.0) is None
    assert phase_at([], 0) is None


@pytest.mark.parametrize("scale", [0, -1.0])
def test_bad_time_scale(scale: float) -> None:
    with pytest.raises(ValueError, match="time_scale"):
        build_timeline(ScheduleSpec(plateaus=[Stage(rps=1, duration=1)]), scale)
