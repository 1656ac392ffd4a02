"""The plan's pass criteria and the store's verdicts on them, as the report reads them.

Criteria are read from the resolved plan (``plan.resolved.json``) with the guards' own
parser, so a threshold means here exactly what it meant to the judge: seconds, ratios
(fractions), percent points, USD, bytes or counts (``perfgate.guards.units``). Results
come from ``criteria_results`` (one row per criterion per plateau); a store without that
table (guards off, or an older run) simply has none, and the report says "not judged".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from perfgate.guards.spec import CriterionSpec

__all__ = ["PlanCriterion", "Result", "plan_criteria", "results_by_plateau"]


@dataclass(frozen=True)
class PlanCriterion:
    name: str
    family: str | None
    metric: str | None
    signal: str | None
    stat: str | None
    op: str
    threshold: float
    threshold_text: str
    unit: str

    def holds(self, value: float) -> bool:
        return {"<=": value <= self.threshold, "<": value < self.threshold,
                ">=": value >= self.threshold, ">": value > self.threshold}[self.op]

    def headroom(self, value: float) -> float | None:
        """How close ``value`` is to the threshold: value/threshold for an upper bound,
        threshold/value for a lower bound (1.0 = at the limit, > 1 = past it)."""
        if self.op in ("<=", "<"):
            return value / self.threshold if self.threshold else None
        return self.threshold / value if value else None


@dataclass(frozen=True)
class Result:
    plateau: str
    name: str
    family: str | None
    statistic: str
    op: str
    threshold: float | None
    threshold_text: str
    unit: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    min_samples: int | None
    verdict: str
    sentence: str


def plan_criteria(plan: Mapping[str, Any]) -> list[PlanCriterion]:
    out = []
    for raw in plan.get("criteria") or []:
        try:
            spec = CriterionSpec.model_validate(raw)
        except ValidationError:
            continue
        out.append(PlanCriterion(spec.name, spec.family, spec.metric, spec.signal, spec.stat,
                                 spec.op, float(spec.value), str(spec.threshold),
                                 spec.unit.value))
    return out


def results_by_plateau(rows: list[dict[str, Any]]) -> dict[str, list[Result]]:
    out: dict[str, list[Result]] = {}
    for r in rows:
        detail = r.get("detail") if isinstance(r.get("detail"), dict) else {}
        out.setdefault(str(r["plateau"]), []).append(Result(
            plateau=str(r["plateau"]), name=str(r["name"]), family=r.get("family"),
            statistic=str(r.get("statistic") or ""), op=str(r.get("op") or ""),
            threshold=r.get("threshold"), threshold_text=str(r.get("threshold_text") or ""),
            unit=str(r.get("unit") or ""), value=r.get("value"), ci_low=r.get("ci_low"),
            ci_high=r.get("ci_high"), n=r.get("n"), min_samples=r.get("min_samples"),
            verdict=str(r.get("verdict") or "INSUFFICIENT"),
            sentence=str((detail or {}).get("sentence") or "")))
    return out
