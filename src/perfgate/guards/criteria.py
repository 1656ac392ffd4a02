"""Judging pass criteria on one plateau's merged data (pure: facts in, results out).

A criterion is PASS or FAIL by its point value against the threshold, and
INSUFFICIENT when the statistic has fewer samples than it needs (``perfgate.guards.stats``
states each minimum). The 95% interval is computed and shown beside the value; it
does not change the verdict (``confident`` says whether the whole interval is on the
verdict's side). Units: see ``perfgate.guards.units``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from perfgate.guards.budget import PlateauCost, usd
from perfgate.guards.spec import LOAD_METRICS, CriterionSpec
from perfgate.guards.stats import (
    MIN_TELEMETRY_SAMPLES,
    mean_interval,
    min_samples_for_percentile,
    min_samples_for_rate,
    order_statistic_ranks,
    wilson_interval,
)
from perfgate.guards.units import format_value
from perfgate.metrics import histogram as hist
from perfgate.metrics.outcome import Outcome
from perfgate.metrics.window import Cell
from perfgate.telemetry.quantile import histogram_quantile, total
from perfgate.telemetry.series import SignalStore
from perfgate.telemetry.spec import quantile_sample_name

__all__ = ["CriterionResult", "PlateauFacts", "judge", "plateau_verdict"]

PASS, FAIL, INSUFFICIENT = "PASS", "FAIL", "INSUFFICIENT"
MIN_COST_CALLS = {"usd_per_ai_call": 10, "usd_per_1k_requests": 100, "fallback_billed_usd": 1,
                  "markup_mismatches": 1, "gross_margin": 10}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}

Value = float | Decimal


@dataclass(frozen=True)
class PlateauFacts:
    plateau: str
    start_s: float
    end_s: float
    cells: Mapping[str | None, Cell]  # family -> merged cell; None: every family
    signals: SignalStore | None = None
    histogram_signals: frozenset[str] = frozenset()
    cost: PlateauCost | None = None
    infra_usd_per_hour: Decimal = Decimal(0)


@dataclass(frozen=True)
class CriterionResult:
    spec: CriterionSpec
    value: Value | None
    n: int
    min_samples: int
    ci: tuple[Value, Value] | None = None
    verdict: str = INSUFFICIENT
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def group(self) -> str:
        return self.spec.family or "all"

    @property
    def confident(self) -> bool | None:
        if self.ci is None or self.verdict == INSUFFICIENT:
            return None
        ok = _OPS[self.spec.op]
        lo, hi = self.ci
        threshold = self.spec.value
        return ok(lo, threshold) == ok(hi, threshold)

    def sentence(self) -> str:
        s, unit = self.spec, self.spec.unit
        what = f"{s.family + ' ' if s.family else ''}{s.statistic}"
        if s.signal:
            what = f"{s.signal} {s.statistic}"
        ci = (f" (95% CI {format_value(self.ci[0], unit)}..{format_value(self.ci[1], unit)})"
              if self.ci else "")
        if self.verdict == INSUFFICIENT:
            return f"{s.name}: INSUFFICIENT, {what} needs {self.min_samples} samples, " \
                   f"has {self.n}{'; ' + self.note if self.note else ''}"
        return (f"{s.name}: {self.verdict}, {what} {format_value(self.value, unit)} "
                f"{s.op} {format_value(s.value, unit)}? n={self.n}{ci}"
                f"{'; ' + self.note if self.note else ''}")

    def to_row(self, plateau: str, t: float) -> dict[str, Any]:
        def num(v: Value | None) -> float | None:
            return None if v is None else float(v)

        s = self.spec
        detail = {"sentence": self.sentence(), "confident": self.confident, **self.extra}
        if isinstance(self.value, Decimal):
            detail["value_usd"] = usd(self.value)
        return {"plateau": plateau, "name": s.name, "family": s.family,
                "statistic": s.statistic if s.metric else f"{s.signal}:{s.statistic}",
                "op": s.op, "threshold": num(s.value), "threshold_text": str(s.threshold),
                "unit": s.unit.value, "value": num(self.value),
                "ci_low": num(self.ci[0]) if self.ci else None,
                "ci_high": num(self.ci[1]) if self.ci else None, "n": self.n,
                "min_samples": self.min_samples, "verdict": self.verdict, "t": t,
                "detail": detail}


def _decide(spec: CriterionSpec, value: Value | None, n: int, need: int,
            ci: tuple[Value, Value] | None = None, note: str = "") -> CriterionResult:
    need = spec.min_samples or need
    if value is None or n < need or (isinstance(value, float) and math.isnan(value)):
        return CriterionResult(spec, value, n, need, ci, INSUFFICIENT, note)
    threshold: Value = spec.value
    if isinstance(value, Decimal) and not isinstance(threshold, Decimal):
        threshold = Decimal(str(threshold))
    if isinstance(threshold, Decimal) and not isinstance(value, Decimal):
        value = Decimal(str(value))
    verdict = PASS if _OPS[spec.op](value, threshold) else FAIL
    return CriterionResult(spec, value, n, need, ci, verdict, note)


def _load(spec: CriterionSpec, facts: PlateauFacts) -> CriterionResult:
    cell = facts.cells.get(spec.family) or Cell()
    metric = spec.statistic
    if metric in ("error_rate", "timeout_rate"):
        n = cell.slo_count
        k = cell.errors if metric == "error_rate" else cell.counts[Outcome.TIMEOUT]
        need = min_samples_for_rate(float(spec.value))
        return _decide(spec, k / n if n else None, n, need,
                       wilson_interval(k, n) if n else None)
    q = float(metric[1:]) / 100
    n = hist.total_count(cell.latency)
    need = min_samples_for_percentile(q)
    if not n:
        return _decide(spec, None, 0, need)
    lo, hi = order_statistic_ranks(n, q)
    pct = hist.percentiles_ms(cell.latency, (q * 100, 100 * lo / n, 100 * hi / n))
    value, low, high = (pct[f"p{x:g}"] for x in (q * 100, 100 * lo / n, 100 * hi / n))
    assert value is not None and low is not None and high is not None
    return _decide(spec, value / 1000, n, need, (low / 1000, high / 1000))


def _telemetry(spec: CriterionSpec, facts: PlateauFacts) -> CriterionResult:
    assert spec.signal is not None
    stat, store = spec.statistic, facts.signals
    q = float(stat[1:]) / 100 if stat.startswith("p") else None
    if store is None:
        return _decide(spec, None, 0, MIN_TELEMETRY_SAMPLES, note="no telemetry configured")
    if q is not None and spec.signal in facts.histogram_signals:
        buckets = store.buckets_between(spec.signal, facts.start_s, facts.end_s)
        need = min_samples_for_percentile(q)
        if buckets is not None and total(buckets) > 0:
            n = int(total(buckets))
            lo, hi = order_statistic_ranks(n, q)
            ci = (histogram_quantile(lo / n, buckets), histogram_quantile(hi / n, buckets))
            return _decide(spec, histogram_quantile(q, buckets), n, need, ci,
                           note="from the plateau's merged histogram buckets")
        samples = store.between(quantile_sample_name(spec.signal, q), facts.start_s,
                                facts.end_s)
        if not samples:
            return _decide(spec, None, 0, need, note="no histogram observations")
        return _decide(spec, max(samples), len(samples), MIN_TELEMETRY_SAMPLES,
                       note="no buckets (PromQL source): the worst per-interval quantile")
    values = store.between(spec.signal, facts.start_s, facts.end_s)
    n = len(values)
    if not values:
        return _decide(spec, None, 0, MIN_TELEMETRY_SAMPLES, note="no samples (a gap?)")
    if q is not None:
        ordered = sorted(values)
        lo, hi = order_statistic_ranks(n, q)
        rank = max(1, min(n, round(q * n)))
        return _decide(spec, ordered[rank - 1], n, min_samples_for_percentile(q),
                       (ordered[lo - 1], ordered[hi - 1]))
    if stat == "mean":
        return _decide(spec, sum(values) / n, n, MIN_TELEMETRY_SAMPLES, mean_interval(values))
    picked = {"min": min(values), "max": max(values), "last": values[-1]}[stat]
    return _decide(spec, picked, n, MIN_TELEMETRY_SAMPLES)


def _cost(spec: CriterionSpec, facts: PlateauFacts) -> CriterionResult:
    c = facts.cost
    metric = spec.statistic
    need = MIN_COST_CALLS[metric]
    if c is None:
        return _decide(spec, None, 0, need, note="no budget configured")
    if metric == "usd_per_ai_call":
        n = c.ai_calls
        if not n:
            return _decide(spec, None, 0, need)
        mean = c.provider_cost / n
        ci = None
        if n > 1:
            var = max(0.0, (c.cost_sq - n * float(mean) ** 2) / (n - 1))
            half = Decimal(str(1.959963984540054 * math.sqrt(var / n)))
            ci = (max(Decimal(0), mean - half), mean + half)
        return _decide(spec, mean, n, need, ci)
    if metric == "usd_per_1k_requests":
        requests = (facts.cells.get(None) or Cell()).completed
        value = c.provider_cost / requests * 1000 if requests else None
        return _decide(spec, value, requests, need)
    if metric == "fallback_billed_usd":
        return _decide(spec, c.fallback_billed, c.fallback_calls, need,
                       note="" if c.fallback_calls else "no fallback answered in this plateau")
    if metric == "markup_mismatches":
        return _decide(spec, float(c.markup_mismatches), c.provider_calls, need)
    hours = Decimal(str(max(0.0, facts.end_s - facts.start_s) / 3600))
    cogs = c.provider_cost + facts.infra_usd_per_hour * hours
    margin = (c.billed - cogs) / c.billed if c.billed > 0 else None
    result = _decide(spec, float(margin) if margin is not None else None, c.provider_calls,
                     need)
    result.extra.update(billed_usd=usd(c.billed), cogs_usd=usd(cogs),
                        infra_usd=usd(facts.infra_usd_per_hour * hours))
    return result


def judge(spec: CriterionSpec, facts: PlateauFacts) -> CriterionResult:
    if spec.signal is not None:
        return _telemetry(spec, facts)
    if spec.statistic in LOAD_METRICS:
        return _load(spec, facts)
    return _cost(spec, facts)


def plateau_verdict(results: list[CriterionResult]) -> dict[str, Any]:
    """``{"verdict", "families": {group: verdict}, "failed": [names], ...}``: FAIL if any
    criterion failed, else PASS if any passed, else INSUFFICIENT (or None: no criteria)."""

    def combine(rs: list[CriterionResult]) -> str | None:
        verdicts = {r.verdict for r in rs}
        return FAIL if FAIL in verdicts else PASS if PASS in verdicts else \
            INSUFFICIENT if verdicts else None

    groups: dict[str, list[CriterionResult]] = {}
    for r in results:
        groups.setdefault(r.group, []).append(r)
    return {"verdict": combine(results),
            "families": {g: combine(rs) for g, rs in sorted(groups.items())},
            "failed": [r.spec.name for r in results if r.verdict == FAIL],
            "insufficient": [r.spec.name for r in results if r.verdict == INSUFFICIENT]}
