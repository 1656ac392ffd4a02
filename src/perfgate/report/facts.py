"""Per-plateau facts beyond the load SLIs: telemetry statistics and AI cost, from the store.

Telemetry: every sample whose time falls in ``[start_s, end_s)`` of a plateau, grouped by
signal name and labels; statistics are over the samples (``p95`` nearest rank). Cost:
the ledger's rows of the plateau (one per AI call): provider calls, fallbacks, provider
cost and billed amounts (exact ``Decimal``), tokens, failovers (calls answered on the
secondary key), the busiest minute's calls and tokens (RPM/TPM), plus the provider's
429s from the ``provider_requests_rate{outcome=rate_limited|quota}`` telemetry.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from perfgate.report.scan import connect_ro
from perfgate.store.reader import PlateauRow, SampleRow

__all__ = ["CostStats", "SignalStats", "cost_stats", "ledger_rows", "signal_stats"]

ZERO = Decimal(0)


@dataclass(frozen=True)
class SignalStats:
    n: int
    mean: float
    min: float
    max: float
    p95: float
    first: float
    last: float
    first_t: float
    last_t: float


def _stats(points: list[tuple[float, float]]) -> SignalStats:
    values = sorted(v for _, v in points)
    n = len(values)
    return SignalStats(n, sum(values) / n, values[0], values[-1],
                       values[max(1, min(n, math.ceil(0.95 * n))) - 1],
                       points[0][1], points[-1][1], points[0][0], points[-1][0])


def _label_text(labels: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


def signal_stats(samples: list[SampleRow], plateaus: list[PlateauRow], end_s: float
                 ) -> dict[str, dict[str, SignalStats]]:
    """plateau -> ``name`` or ``name{labels}`` -> stats (finite values only)."""
    spans = [(p.id, p.start_s, p.end_s if p.end_s is not None else end_s) for p in plateaus]
    grouped: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for s in samples:
        if not math.isfinite(s.value):
            continue
        pid = next((pid for pid, a, b in spans if a <= s.t < b), None)
        if pid is None:
            continue
        labels = _label_text(s.labels)
        key = f"{s.name}{{{labels}}}" if labels else s.name
        grouped.setdefault(pid, {}).setdefault(key, []).append((s.t, s.value))
    return {pid: {k: _stats(v) for k, v in sigs.items()} for pid, sigs in grouped.items()}


@dataclass
class CostStats:
    ai_calls: int = 0
    provider_calls: int = 0
    fallback_calls: int = 0
    failovers: int = 0
    provider_cost: Decimal = ZERO
    billed: Decimal = ZERO
    fallback_billed: Decimal = ZERO
    prompt_tokens: int = 0
    completion_tokens: int = 0
    findings: Counter[str] = field(default_factory=Counter)
    peak_rpm: int = 0
    peak_tpm: int = 0

    @property
    def usd_per_ai_call(self) -> Decimal | None:
        return self.provider_cost / self.ai_calls if self.ai_calls else None

    @property
    def billed_per_ai_call(self) -> Decimal | None:
        return self.billed / self.ai_calls if self.ai_calls else None

    @property
    def tokens_per_provider_call(self) -> float | None:
        if not self.provider_calls:
            return None
        return (self.prompt_tokens + self.completion_tokens) / self.provider_calls


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else ZERO
    except InvalidOperation:
        return ZERO


_LEDGER_READ = ("t", "plateau", "path", "provider_key", "prompt_tokens", "completion_tokens",
                "provider_cost_usd", "billed_usd", "finding")


def ledger_rows(run_dir: Path) -> Iterator[dict[str, Any]]:
    """The ledger's rows one at a time (a long run has a row per AI call: never a list)."""
    conn = connect_ro(run_dir)
    try:
        try:
            cursor = conn.execute(f"SELECT {', '.join(_LEDGER_READ)} FROM ledger")
        except sqlite3.OperationalError:  # a store without a ledger
            return
        for row in cursor:
            yield dict(zip(_LEDGER_READ, row, strict=True))
    finally:
        conn.close()


def cost_stats(ledger: Iterable[dict[str, Any]], time_scale: float = 1.0
               ) -> dict[str, CostStats]:
    """plateau -> cost facts. RPM/TPM are per minute of the run's clock / time scale (the
    real minute a compressed run stands for)."""
    out: dict[str, CostStats] = {}
    minutes: dict[str, Counter[int]] = {}
    tokens: dict[str, Counter[int]] = {}
    minute_s = 60.0 * (time_scale or 1.0)
    for row in ledger:
        path = row.get("path")
        if path is None:
            continue  # refused or unresolved: no call was answered
        pid = str(row.get("plateau"))
        c = out.setdefault(pid, CostStats())
        c.ai_calls += 1
        billed = _dec(row.get("billed_usd"))
        c.billed += billed
        if row.get("finding"):
            for f in str(row["finding"]).split(","):
                c.findings[f] += 1
        if path != "provider":
            c.fallback_calls += 1
            c.fallback_billed += billed
            continue
        c.provider_calls += 1
        c.provider_cost += _dec(row.get("provider_cost_usd"))
        p, q = int(row.get("prompt_tokens") or 0), int(row.get("completion_tokens") or 0)
        c.prompt_tokens += p
        c.completion_tokens += q
        if row.get("provider_key") == "secondary":
            c.failovers += 1
        m = int(float(row.get("t") or 0.0) // minute_s)
        if pid not in minutes:
            minutes[pid], tokens[pid] = Counter(), Counter()
        minutes[pid][m] += 1
        tokens[pid][m] += p + q
    for pid, c in out.items():
        c.peak_rpm = max(minutes.get(pid, Counter()).values(), default=0)
        c.peak_tpm = max(tokens.get(pid, Counter()).values(), default=0)
    return out
