"""The generator self-test: the real engine against the local sink, judged like a plateau."""

from __future__ import annotations

import asyncio

from perfgate.cli.demo_cmd import packaged_plan
from perfgate.preflight.capacity import self_test


def test_self_test_holds_1_5x_peak_against_the_local_sink() -> None:
    facts = asyncio.run(self_test(packaged_plan(), factor=1.5, duration_s=1.0, max_lag_ms=10))
    assert facts["rate"] == 93.0  # 1.5 x 62 RPS
    assert facts["dropped"] == 0 and facts["sent"] == facts["intended"] > 60
    assert facts["outcomes"] == {"ok": facts["sent"]} and facts["sink_requests"] >= facts["sent"]
    assert facts["lag_samples"] > 100
    assert facts["ok"] == (facts["loop_lag_p99_ms"] <= 10)


def test_self_test_is_red_when_lag_exceeds_the_limit() -> None:
    facts = asyncio.run(self_test(packaged_plan(), factor=1.5, duration_s=0.3,
                                  max_lag_ms=0.000001))
    assert facts["ok"] is False and facts["sent"] > 0
