"""Schedules against slow exact references and statistical bounds."""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import pytest

from perfgate.engine.schedule import arrivals, timeline_arrivals
from perfgate.engine.timeline import build_timeline
from perfgate.plan.models import ScheduleSpec, Stage


def exact_uniform(rate: Fraction, start: Fraction, end: Fraction) -> list[Fraction]:
    out = []
    k = 0
    while start + k / rate < end:
        out.append(start + k / rate)
        k += 1
    return out


@pytest.mark.parametrize(("rate", "start", "end"), [
    ("200", "0", "1.5"), ("62", "300", "1320"), ("21", "0.25", "17.75"), ("7.3", "1", "2"),
    ("1000", "0", "3"), ("0.5", "0", "10"),
])
def test_uniform_matches_exact_reference(rate: str, start: str, end: str) -> None:
    ref = exact_uniform(Fraction(rate), Fraction(start), Fraction(end))
    got = list(arrivals(float(rate), float(start), float(end), "uniform", random.Random(0)))
    assert len(got) == len(ref)
    assert all(abs(g - float(r)) < 1e-9 for g, r in zip(got, ref, strict=True))
    assert got[0] == float(start)


def test_poisson_matches_slow_reference_and_is_seeded() -> None:
    rng = random.Random(42)
    ref = []
    t = 3.0
    while True:
        t += rng.expovariate(50.0)
        if t >= 13.0:
            break
        ref.append(t)
    got = list(arrivals(50.0, 3.0, 13.0, "poisson", random.Random(42)))
    assert got == ref
    assert list(arrivals(50.0, 3.0, 13.0, "poisson", random.Random(42))) == got
    assert list(arrivals(50.0, 3.0, 13.0, "poisson", random.Random(43))) != got


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_poisson_counts_are_poisson(seed: int) -> None:
    rate, seconds = 50.0, 2000
    got = list(arrivals(rate, 0.0, float(seconds), "poisson", random.Random(seed)))
    assert all(0.0 <= t < seconds for t in got)
    assert all(a < b for a, b in itertools.pairwise(got))
    n = len(got)
    expected = rate * seconds
    assert abs(n - expected) < 4 * math.sqrt(expected)
    counts = [0] * seconds
    for t in got:
        counts[int(t)] += 1
    mean = n / seconds
    var = sum((c - mean) ** 2 for c in counts) / (seconds - 1)
    # index of dispersion: (k-1) var/mean ~ chi2(k-1) for Poisson counts
    stat = (seconds - 1) * var / mean
    assert abs(stat - (seconds - 1)) < 4 * math.sqrt(2 * (seconds - 1))
    # gaps are exponential: Kolmogorov-Smirnov at the 0.1% level
    gaps = sorted(b - a for a, b in itertools.pairwise(got))
    m = len(gaps)
    d = max(max((i + 1) / m - (1 - math.exp(-rate * g)), (1 - math.exp(-rate * g)) - i / m)
            for i, g in enumerate(gaps))
    assert d < 1.95 / math.sqrt(m)


@pytest.mark.parametrize("kind", ["poisson", "uniform"])
def test_nothing_outside_the_interval(kind: str) -> None:
    for seed in range(20):
        got = list(arrivals(97.0, 5.0, 5.5, kind, random.Random(seed)))  # type: ignore[arg-type]
        assert all(5.0 <= t < 5.5 for t in got)


def test_bad_rate_and_kind() -> None:
    with pytest.raises(ValueError, match="rate"):
        arrivals(0, 0, 1, "uniform", random.Random())
    with pytest.raises(ValueError, match="kind"):
        arrivals(1, 0, 1, "bursty", random.Random())  # type: ignore[arg-type]


def test_timeline_arrivals_chain_phases_in_order() -> None:
    sched = ScheduleSpec(warmup=Stage(rps=10, duration=1),
                         plateaus=[Stage(rps=20, duration=2), Stage(rps=40, duration=1)])
    tl = build_timeline(sched)
    got = list(timeline_arrivals(tl, "uniform", 0))
    assert [sum(1 for _, p in got if p.id == pid) for pid in ("p0", "p1", "p2")] == [10, 40, 40]
    assert all(p.start_s <= t < p.end_s for t, p in got)
    assert [t for t, _ in got] == sorted(t for t, _ in got)
    poisson = list(timeline_arrivals(tl, "poisson", 7))
    assert poisson == list(timeline_arrivals(tl, "poisson", 7))
    assert all(p.start_s <= t < p.end_s for t, p in poisson)
