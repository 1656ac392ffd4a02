"""Unit tests: breaker state machine, pricing, fallbacks, settings, queue, seed data."""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal

import pytest
from studyhall_fakes import FakeClock

from studyhall.ai.breaker import BreakerState, CircuitBreaker
from studyhall.ai.fallback import AnswerCache, CachedAnswer, extractive_questions
from studyhall.ai.pricing import provider_cost, usd
from studyhall.ai.service import parse_questions
from studyhall.metrics import Metrics
from studyhall.queue import InProcessQueue
from studyhall.seed import SUBJECTS, make_courses, make_students
from studyhall.settings import ModelPrice, Settings

PLAN_TERMS = ["algebra", "biology", "chemistry", "calculus", "history", "poetry", "physics",
              "statistics", "geometry", "economics", "grammar", "ecology", "genetics", "writing",
              "programming"]


def test_breaker_state_machine_with_fake_clock() -> None:
    clock = FakeClock()
    seen: list[tuple[BreakerState, BreakerState]] = []
    b = CircuitBreaker(failure_threshold=2, reset_timeout_s=5, clock=clock,
                       on_transition=lambda old, new: seen.append((old, new)))
    assert b.allow()
    b.record_failure()
    b.record_success()  # resets the consecutive count
    b.record_failure()
    assert b.state is BreakerState.CLOSED
    b.record_failure()
    assert b.state is BreakerState.OPEN and not b.allow()
    clock.advance(4.9)
    assert not b.allow()
    clock.advance(0.1)
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow()          # the probe
    assert not b.allow()      # only one probe at a time
    b.release()               # probe cancelled: slot free again
    assert b.allow()
    b.record_success()
    assert b.state is BreakerState.CLOSED
    assert [new for _, new in seen] == [BreakerState.OPEN, BreakerState.HALF_OPEN,
                                        BreakerState.CLOSED]


def test_pricing_is_exact_decimal() -> None:
    price = ModelPrice(input_per_1m=Decimal("0.15"), output_per_1m=Decimal("0.60"))
    cost = provider_cost(price, 450, 300)
    assert cost == Decimal("0.0002475")
    assert usd(cost * 4) == "0.00099"
    assert usd(provider_cost(price, 1, 0)) == "0.00000015"
    assert usd(Decimal("0E-10")) == "0"


def test_cache_is_lru_and_keys_normalize() -> None:
    cache = AnswerCache(2)
    assert AnswerCache.key("a", "Hello  World") == AnswerCache.key("a", "hello world")
    for k in "abc":
        cache.put(k, CachedAnswer({"k": k}, "m"))
    assert cache.get("a") is None and cache.get("c") is not None and len(cache) == 2


def test_extractive_and_parsing() -> None:
    course = {"title": "Applied Algebra II", "description": "Students practise algebra. "
              "A final project applies algebra."}
    qs = extractive_questions(course, 5)
    assert len(qs) == 5 and all(q.endswith(".)") for q in qs)
    assert parse_questions("1. What?\n\n- Why?\nQ3: How?\n", 2) == ["What?", "Why?"]


def test_settings_from_env_reads_secrets_and_tokens() -> None:
    env = {"STUDYHALL_OPENAI_KEY_PRIMARY": "sk-zq93", "STUDYHALL_TOKEN": "t1, t2",
           "STUDYHALL_ADMIN_TOKEN": "qq-7x1", "REDIS_URL": "redis://x:1/0"}
    s = Settings.from_env(env, pool_size=3)
    assert s.openai_key_primary.get_secret_value() == "sk-zq93"
    assert s.openai_key_secondary.get_secret_value() == "sk-sim-secondary"
    assert [t.get_secret_value() for t in s.tokens] == ["t1", "t2"]
    assert s.redis_url == "redis://x:1/0" and s.pool_size == 3
    assert "sk-zq93" not in repr(s) and "qq-7x1" not in repr(s)
    assert Settings().price.output_per_1m == Decimal("0.60")


def test_seed_data_is_reproducible_and_synthetic() -> None:
    a = make_students(random.Random(1), 50)
    b = make_students(random.Random(1), 50)
    assert a == b
    assert all(s["email"].endswith(("@example.com", "@example.org")) for s in a)
    courses = make_courses(random.Random(42), 2000)
    text = " ".join(f"{c['title']} {c['description']}".lower() for c in courses)
    for term in PLAN_TERMS:
        assert text.count(term) >= 80, term
    assert {c["topic"] for c in courses} == set(SUBJECTS)


@pytest.mark.asyncio
async def test_in_process_queue_drains_at_bounded_rate() -> None:
    metrics = Metrics()
    q = InProcessQueue(metrics, drain_rate=100, max_depth=1000)
    for i in range(60):
        await q.put({"type": "profile_view", "student_id": i})
    assert metrics.registry.get_sample_value("studyhall_queue_depth") == 60
    await asyncio.sleep(0.02)
    assert metrics.registry.get_sample_value("studyhall_queue_oldest_age_seconds") > 0.01
    await q.start()
    started = time.monotonic()
    while q.depth() and time.monotonic() - started < 3:
        await asyncio.sleep(0.02)
    elapsed = time.monotonic() - started
    await q.close()
    assert q.depth() == 0
    assert 0.35 <= elapsed <= 1.5  # 60 events at 100/s (burst 10): about 0.5 s
    assert q.analytics.counts["profile_view"] == 60
    assert metrics.registry.get_sample_value("studyhall_queue_oldest_age_seconds") == 0


@pytest.mark.asyncio
async def test_in_process_queue_drops_oldest_when_full() -> None:
    metrics = Metrics()
    q = InProcessQueue(metrics, drain_rate=1, max_depth=3)
    for i in range(5):
        await q.put({"type": "x", "i": i})
    assert q.depth() == 3
    assert metrics.registry.get_sample_value("studyhall_queue_dropped_total") == 2


def test_unavailable_service_skips_locally_and_fails_in_ci(monkeypatch) -> None:
    from studyhall_fakes import unavailable

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL not available"):
        unavailable("PostgreSQL", "connection refused")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true requires it"):
        unavailable("PostgreSQL", "connection refused")


def test_cli_fault_flags_parse_into_settings() -> None:
    from studyhall.cli import _fault, build_parser

    args = build_parser().parse_args(["serve", "--fault", "slow_search", "--fault",
                                      "cpu_burn_ms=5", "--fault", "fallback_bills=off"])
    assert dict(args.fault) == {"slow_search": True, "cpu_burn_ms": 5, "fallback_bills": False}
    assert _fault("db_hold_ms=20") == ("db_hold_ms", 20)
    s = Settings(faults=dict(args.fault))
    assert s.faults.slow_search and s.faults.cpu_burn_ms == 5
