"""Leak, GC-pause and error-cascade verdicts on synthetic series with known answers."""

from __future__ import annotations

import random

from perfgate.stability.cascade import ErrorCount, cascade_verdict
from perfgate.stability.gc import gc_verdict
from perfgate.stability.leak import MB, PlateauSeries, leak_verdict
from perfgate.stability.spec import CascadeSpec, GcSpec, LeakSpec


def _plateaus(mb_per_h: float, *, floors: tuple[float, ...] = (200, 200, 200), noise_mb=0.5,
              seed: int = 1) -> list[PlateauSeries]:
    rng = random.Random(seed)
    out, t0 = [], 0.0
    for i, floor in enumerate(floors):
        pts = []
        for k in range(120):  # 10 min at 5 s
            t = t0 + k * 5
            pts.append((t, (floor + mb_per_h * (t - t0) / 3600 + rng.gauss(0, noise_mb)) * MB))
        out.append(PlateauSeries(f"p{i + 1}", t0, t0 + 600, pts))
        t0 += 600
    return out


def test_a_100_mb_per_hour_leak_is_caught_with_its_rate_and_soak_projection() -> None:
    v = leak_verdict(_plateaus(100), LeakSpec(tolerance_mb_per_h=20))
    assert v.status == "FAIL"
    worst = v.evidence["worst_mb_per_h"]
    assert 90 < worst < 110
    assert abs(v.evidence["projected_soak_growth_mb"] - 4 * worst) < 1e-6
    assert all(p["status"] == "FAIL" for p in v.evidence["plateaus"])
    assert "MB/h" in v.message


def test_flat_memory_is_not_flagged() -> None:
    v = leak_verdict(_plateaus(0, noise_mb=2), LeakSpec(tolerance_mb_per_h=20))
    assert v.status == "PASS", v.message
    for p in v.evidence["plateaus"]:
        low, high = p["ci_mb_per_h"]
        assert low <= 0 <= high or abs(p["mb_per_h"]) < 20


def test_floors_that_keep_rising_are_a_leak_even_when_each_plateau_is_flat() -> None:
    v = leak_verdict(_plateaus(0, floors=(200, 240, 290, 350)), LeakSpec(floor_rise_mb=16))
    assert v.status == "FAIL" and v.evidence["floors_keep_rising"]
    assert "floors keep rising" in v.message


def test_the_first_fifth_of_a_plateau_is_left_out() -> None:
    # a warm-up climb of 50 MB in the first 2 minutes, flat after: no leak
    pts = [(float(t), (200 + min(t, 120) * 50 / 120) * MB) for t in range(0, 600, 5)]
    v = leak_verdict([PlateauSeries("p1", 0, 600, pts)], LeakSpec(tolerance_mb_per_h=5))
    assert v.status == "PASS"


def test_too_few_samples_is_insufficient() -> None:
    v = leak_verdict([PlateauSeries("p1", 0, 60, [(1.0, MB), (50.0, MB)])], LeakSpec())
    assert v.status == "INSUFFICIENT"


def test_gc_two_long_pauses_a_minute_for_two_minutes_is_sustained() -> None:
    samples = [(t, 0.0) for t in range(0, 600, 5)]
    samples += [(130.0, 1), (150.0, 1), (185.0, 2)]  # minute 2: 2 pauses, minute 3: 2
    v = gc_verdict(samples, GcSpec(), 0, 600)
    assert v.status == "FAIL"
    assert v.evidence["sustained_windows"] == [2, 3]
    assert "120-180s" in v.message


def test_gc_isolated_long_pauses_pass() -> None:
    samples = [(65.0, 2.0), (305.0, 1.0), (430.0, 3.0)]  # bad windows 1 and 7, not adjacent
    v = gc_verdict(samples, GcSpec(), 0, 600)
    assert v.status == "PASS" and len(v.evidence["bad_windows"]) == 2
    assert gc_verdict([], GcSpec(), 0, 600).status == "INSUFFICIENT"


def _counts(rates: dict[str, list[float]], per_window: int = 10_000, width: int = 10
            ) -> list[ErrorCount]:
    out = []
    for fam, rs in rates.items():
        for k, r in enumerate(rs):
            for s in range(width):
                out.append(ErrorCount(k * width + s, fam, round(r * per_window / width),
                                      per_window // width))
    return out


def test_error_rate_doubling_three_windows_in_a_row_is_a_cascade_naming_them() -> None:
    counts = _counts({"core": [0.001, 0.001, 0.004, 0.01, 0.03, 0.03], "ai": [0.0] * 6})
    v = cascade_verdict(counts, CascadeSpec(min_errors=2), start_s=0, end_s=60, window_s=10)
    assert v.status == "FAIL"
    rise = next(f for f in v.evidence["findings"] if f["rule"] == "rise")
    assert rise["family"] == "core"
    assert [w["window"] for w in rise["windows"]] == [1, 2, 3, 4]
    assert "windows 1-4 (10-50 s)" in v.message


def test_errors_spreading_from_ai_to_core_is_a_cascade() -> None:
    counts = _counts({"ai": [0, 0.05, 0.05, 0.05, 0.05], "core": [0, 0, 0, 0.02, 0.02]})
    v = cascade_verdict(counts, CascadeSpec(), start_s=0, end_s=50, window_s=10)
    spread = [f for f in v.evidence["findings"] if f["rule"] == "spread"]
    assert v.status == "FAIL" and spread[0]["from_family"] == "ai"
    assert spread[0]["to_family"] == "core" and spread[0]["to_window"]["window"] == 3


def test_steady_or_falling_errors_and_excluded_chaos_windows_pass() -> None:
    steady = _counts({"core": [0.002] * 6, "ai": [0.004, 0.003, 0.002, 0.001, 0, 0]})
    assert cascade_verdict(steady, CascadeSpec(), start_s=0, end_s=60, window_s=10
                           ).status == "PASS"
    rising = _counts({"ai": [0.001, 0.002, 0.004, 0.01, 0.001, 0.001]})
    v = cascade_verdict(rising, CascadeSpec(min_errors=1), start_s=0, end_s=60, window_s=10,
                        exclude=[(15.0, 25.0)])  # the chaos fault's window breaks the run
    assert v.status == "PASS", v.message
