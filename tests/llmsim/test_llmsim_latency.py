from __future__ import annotations

import statistics

import pytest

from llmsim.config import LatencyConfig
from llmsim.latency import LatencyModel


def test_ttft_median_and_per_token_time() -> None:
    model = LatencyModel(LatencyConfig(), scale=1.0, seed=1)
    plans = [model.plan(100) for _ in range(4_000)]
    median = statistics.median(p.ttft_s for p in plans)
    assert median == pytest.approx(0.350, rel=0.05)
    assert all(p.per_token_s == pytest.approx(0.002) for p in plans)
    assert plans[0].total_s == pytest.approx(plans[0].ttft_s + 0.2)
    assert plans[0].token_due_s(0) == plans[0].ttft_s


def test_seeded_and_reproducible() -> None:
    a = LatencyModel(LatencyConfig(), scale=1.0, seed=3)
    b = LatencyModel(LatencyConfig(), scale=1.0, seed=3)
    first = [a.plan(10) for _ in range(20)]
    assert first == [b.plan(10) for _ in range(20)]
    a.reseed(3)
    assert [a.plan(10) for _ in range(20)] == first
    assert LatencyModel(LatencyConfig(), scale=1.0, seed=4).plan(10) != first[0]


def test_scale_cap_sigma_zero_and_extra_latency() -> None:
    cfg = LatencyConfig(ttft_sigma=0, ttft_median_ms=400, per_token_ms=5)
    plan = LatencyModel(cfg, scale=0.5, seed=0).plan(10, extra_s=0.25)
    assert plan.ttft_s == pytest.approx(0.2 + 0.25)  # extra latency is not scaled
    assert plan.per_token_s == pytest.approx(0.0025)
    capped = LatencyModel(
        LatencyConfig(ttft_median_ms=5_000, ttft_sigma=3, ttft_max_ms=6_000), scale=1.0, seed=0
    )
    assert max(capped.plan(0).ttft_s for _ in range(500)) <= 6.0
    assert LatencyModel(LatencyConfig(), scale=0.0, seed=0).plan(100).total_s == 0.0
