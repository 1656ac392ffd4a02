"""Trigger signals: telemetry over the window, provider blocks, cost run-rate, the sink."""

from __future__ import annotations

from decimal import Decimal

import pytest

from perfgate.guards.livedata import LoadData
from perfgate.guards.rules import Transition
from perfgate.guards.spec import TriggersSpec
from perfgate.guards.triggers import TriggerEvaluator
from perfgate.telemetry.series import SignalStore


def rules(*rules: dict[str, object], window: str = "1m") -> TriggersSpec:
    return TriggersSpec.model_validate({"window": window, "rules": list(rules)})


def test_cpu_averaged_over_the_window_held_for_3_minutes() -> None:
    store = SignalStore()
    ev = TriggerEvaluator(rules({"name": "cpu", "signal": "cpu_percent", "op": ">",
                                 "threshold": "80%", "for": "3m"}), 1.0,
                          load=LoadData(), signals=store)
    seen = {}
    for t in range(0, 400, 5):  # a scrape every 5 s: 90% from t=100
        store.add(float(t), "cpu_percent", 90.0 if t >= 100 else 50.0)
        for s in range(t, t + 5):
            seen[s] = ev.evaluate(float(s))[0][1]
    breach = min(s for s, tr in seen.items() if tr is Transition.BREACH)
    fire = min(s for s, tr in seen.items() if tr is Transition.FIRE)
    # the 1-minute average passes 80% once 10 of the 12 samples in it are at 90%
    assert breach == 145 and fire == breach + 180


def test_a_telemetry_gap_resets_the_rule() -> None:
    store = SignalStore()
    ev = TriggerEvaluator(rules({"name": "pool", "signal": "db_pool_free_ratio", "op": "<",
                                 "threshold": "10%", "for": "3m"}), 1.0,
                          load=LoadData(), signals=store)
    for t in range(0, 100):
        store.add(float(t), "db_pool_free_ratio", 0.05)
        ev.evaluate(float(t))
    store.open_gap("db_pool_free_ratio", 100.0, "HTTP 500")
    assert ev.evaluate(100.0)[0][1] is Transition.CLEAR
    store.close_gap("db_pool_free_ratio", 101.0)
    store.add(101.0, "db_pool_free_ratio", 0.05)
    assert ev.evaluate(101.0)[0][1] is Transition.BREACH  # starts over


def test_provider_blocked_holds_from_a_block_until_a_success_on_any_key() -> None:
    store = SignalStore()
    last_ok: list[float | None] = [None]
    ev = TriggerEvaluator(rules({"name": "quota", "signal": "provider_blocked", "op": ">",
                                 "threshold": 0, "for": "2m"}), 1.0, load=LoadData(),
                          signals=store, last_provider_ok=lambda: last_ok[0])
    spec = ev.rules[0].spec
    assert ev.value(spec, 5.0) is None  # no provider telemetry yet
    store.add(6.0, "provider_requests_rate", 0.0, {"key": "primary", "outcome": "quota"})
    assert ev.value(spec, 6.0) == 0.0
    store.add(10.0, "provider_requests_rate", 2.0, {"key": "primary", "outcome": "quota"})
    store.add(10.0, "provider_requests_rate", 0.0, {"key": "secondary", "outcome": "ok"})
    assert ev.value(spec, 10.0) == 1.0
    # both keys sidelined: the target stops calling the provider, nothing succeeds
    store.add(70.0, "provider_requests_rate", 0.0, {"key": "primary", "outcome": "quota"})
    assert ev.value(spec, 70.0) == 1.0
    store.add(71.0, "provider_requests_rate", 1.5, {"key": "secondary", "outcome": "ok"})
    assert ev.value(spec, 71.0) == 0.0  # failover worked
    store.add(80.0, "provider_requests_rate", 2.0, {"key": "primary", "outcome": "rate_limited"})
    assert ev.value(spec, 80.0) == 1.0
    last_ok[0] = 81.0  # perfgate's ledger saw a provider answer
    assert ev.value(spec, 81.0) == 0.0
    store.open_gap("provider_requests_rate", 82.0, "HTTP 500")
    assert ev.value(spec, 82.0) is None


def test_cost_projection_and_outbound_hits() -> None:
    projections = {10.0: Decimal("400"), 11.0: Decimal("600")}
    hits = [0]
    ev = TriggerEvaluator(rules(
        {"name": "run_rate", "signal": "cost_projection_usd", "op": ">", "threshold": "$500"},
        {"name": "sink", "signal": "outbound_hits", "op": ">", "threshold": 0}), 1.0,
        load=LoadData(), projection=lambda now, w: projections.get(now),
        outbound_hits=lambda: hits[0])
    assert [tr for _, tr, _ in ev.evaluate(10.0)] == [Transition.NONE, Transition.NONE]
    hits[0] = 1
    assert [tr for _, tr, _ in ev.evaluate(11.0)] == [Transition.FIRE, Transition.FIRE]
    assert ev.states()["run_rate"]["value"] == pytest.approx(600.0)


def test_windows_and_for_scale_with_the_run() -> None:
    ev = TriggerEvaluator(rules({"name": "e", "signal": "error_rate", "op": ">",
                                 "threshold": "0.5%", "for": "2m"}), 0.05, load=LoadData())
    assert ev.window_s == 3.0 and ev.rules[0].for_s == 6.0
