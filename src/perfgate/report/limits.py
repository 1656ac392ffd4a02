"""Limits the bottleneck analysis measures pressure against: the plan's criteria first.

A resource limit comes from the plan's criterion on the matching signal when there is
one (its threshold, converted: seconds to ms, a free-pool ratio as a fraction), and
otherwise from the perf-6b memo's default, labelled as such in the evidence. Vendor
limits (requests and tokens per minute) come from the preflight results when the
preflight recorded them (keys ``rpm_limit`` / ``tpm_limit`` anywhere in them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perfgate.report.criteria import PlanCriterion
from perfgate.report.hotspots import Limits

__all__ = ["limits_from", "vendor_limits"]


def _find(obj: Any, key: str) -> float | None:
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            if k == key and isinstance(v, int | float) and not isinstance(v, bool):
                return float(v)
            found = _find(v, key)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for v in obj:
            found = _find(v, key)
            if found is not None:
                return found
    return None


def vendor_limits(meta: Mapping[str, Any], summary: Mapping[str, Any]
                  ) -> tuple[float | None, float | None]:
    source = meta.get("preflight") or summary.get("preflight")
    return _find(source, "rpm_limit"), _find(source, "tpm_limit")


def limits_from(criteria: Sequence[PlanCriterion],
                vendor: tuple[float | None, float | None] = (None, None)) -> Limits:
    found: dict[str, tuple[float, str]] = {}
    for c in criteria:
        sig, src = c.signal or "", f"criterion {c.name}"
        if sig == "cpu_percent":
            found.setdefault("cpu_percent", (c.threshold, src))
        elif sig in ("db_query_p95_seconds", "db_query_seconds"):
            found.setdefault("db_p95_ms", (c.threshold * 1000, src))
        elif sig == "db_pool_free_ratio":
            found.setdefault("pool_free", (c.threshold, src))
        elif sig == "queue_oldest_age_seconds":
            found.setdefault("queue_age_s", (c.threshold, src))
        elif sig.startswith("gc_pause") and c.unit == "seconds":
            found.setdefault("gc_pause_ms", (c.threshold * 1000, src))
    return Limits(**found, rpm=vendor[0], tpm=vendor[1])
