"""Breaker and failover verdicts over synthetic store-like series."""

from __future__ import annotations

from decimal import Decimal

from perfgate.stability.resilience import AiCall, breaker_verdict, failover_verdict

Z = Decimal(0)


def _calls(paths: list[tuple[float, str, Decimal]]) -> list[AiCall]:
    return [AiCall(t, 200, p, b, "primary" if p == "provider" else None) for t, p, b in paths]


def test_breaker_opens_serves_zero_billed_fallbacks_and_recovers() -> None:
    breaker = [(t, 0.0) for t in range(0, 30)] + [(31.0, 2.0), (35.0, 2.0), (41.0, 1.0),
                                                  (44.0, 0.0), (50.0, 0.0)]
    calls = _calls([(30.5, "provider", Decimal("0.001")), (32.0, "cache", Z),
                    (33.0, "extractive", Z), (45.0, "provider", Decimal("0.001"))])
    v = breaker_verdict(fault="loss", start=30, end=40, recovery_s=10, breaker=breaker,
                        calls=calls, ai_requests=100, ai_errors=2, ai_timeouts=1)
    assert v.status == "PASS", v.message
    assert v.evidence["opened_at_s"] == 31.0 and v.evidence["recovered_after_s"] == 4.0
    assert v.evidence["ai_error_rate"] == 0.02 and v.evidence["ai_timeout_rate"] == 0.01
    assert v.evidence["by_path"] == {"provider": 1, "cache": 1, "extractive": 1}


def test_billed_fallback_errors_and_slow_recovery_fail() -> None:
    breaker = [(31.0, 2.0), (45.0, 2.0), (60.0, 0.0)]
    calls = [AiCall(32.0, 200, "cache", Decimal("0.004")), AiCall(33.0, 503, None, None),
             AiCall(34.0, None, None, None)]
    v = breaker_verdict(fault="loss", start=30, end=40, recovery_s=10, breaker=breaker,
                        calls=calls, ai_requests=3, ai_errors=2, ai_timeouts=1)
    assert v.status == "FAIL"
    assert v.evidence["checks"] == {"opened": "PASS", "served": "FAIL", "recovered": "FAIL"}
    assert v.evidence["not_served"] == {"cache fallback billed 0.004": 1, "HTTP 503": 1,
                                        "no answer": 1}


def test_a_breaker_that_never_opens_fails_the_opened_check() -> None:
    v = breaker_verdict(fault="loss", start=30, end=40, recovery_s=10,
                        breaker=[(t, 0.0) for t in range(60)],
                        calls=_calls([(35.0, "provider", Decimal("0.001"))]),
                        ai_requests=1, ai_errors=0, ai_timeouts=0)
    assert v.status == "FAIL" and v.evidence["checks"]["opened"] == "FAIL"
    assert v.evidence["checks"]["recovered"] == "SKIPPED"


def test_failover_moves_to_the_secondary_key_in_time_with_clean_billing() -> None:
    calls = [AiCall(t, 200, "provider", Decimal("0.001"), "primary") for t in (1.0, 5.0)]
    calls += [AiCall(t, 200, "provider", Decimal("0.001"), "secondary") for t in (11.5, 13.0)]
    v = failover_verdict(drill="quota", start=10, end=20, within_s=5, calls=calls,
                         triggers_fired=[])
    assert v.status == "PASS", v.message
    assert v.evidence["failover_after_s"] == 1.5
    assert v.evidence["billing_by_key"] == {"primary": {"calls": 2, "findings": 0},
                                            "secondary": {"calls": 2, "findings": 0}}


def test_failover_too_slow_a_fired_trigger_or_a_billing_finding_fail() -> None:
    calls = [AiCall(1.0, 200, "provider", Decimal("0.001"), "primary", "markup_mismatch"),
             AiCall(19.0, 200, "provider", Decimal("0.001"), "secondary")]
    v = failover_verdict(drill="quota", start=10, end=20, within_s=5, calls=calls,
                         triggers_fired=[(12.0, "provider_blocked")])
    assert v.status == "FAIL"
    assert v.evidence["checks"] == {"moved": "FAIL", "no_trigger": "FAIL", "billing": "FAIL"}
