"""``ChartData``: everything the time-synced charts show, read from a run's store.

JSON-ready (``to_dict``), one time axis for all of it: seconds since the run started.
Per-step series (``t``, one point per ``step_s`` seconds) come from the windows table in
one pass (:mod:`perfgate.report.scan`): achieved RPS = sends in the step / step,
latency percentiles of each family from the step's exactly merged histograms, error and
timeout rates over a trailing ``rate_window_s`` (the triggers' rolling minute, scaled by
the run's time scale). Telemetry and cost series keep their own sample times. A signal
with no sample is simply absent: a chart shows "not measured", never a zero.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from perfgate.report.scan import SecondRow, StoreScan, scan_store
from perfgate.store.reader import RunReader

__all__ = ["Band", "ChartData", "Marker", "Series", "series_from_store", "step_for"]

#: Event kinds drawn as markers: kind -> marker class (colour and line style).
MARKER_KINDS = {
    "trigger_warning": "warning", "soft_cost_alert": "warning", "telemetry_gap": "gap",
    "trigger_fired": "alert", "abort": "abort", "fail": "fail", "cost_cap": "abort",
    "kill_switch": "abort",
}
MAX_POINTS = 6000


@dataclass
class Series:
    x: list[float] = field(default_factory=list)
    y: list[float | None] = field(default_factory=list)


@dataclass(frozen=True)
class Band:
    id: str  # "p0".."pN", "chaos-1"
    kind: str  # "warmup" | "plateau" | "chaos"
    label: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Marker:
    t: float
    kind: str  # a value of MARKER_KINDS
    label: str
    plateau: str | None = None


@dataclass
class ChartData:
    run_id: str
    total_s: float
    step_s: int
    t: list[float]
    target_rps: list[float | None]
    achieved_rps: list[float | None]
    latency_ms: dict[str, dict[str, list[float | None]]]  # family -> p50/p95/p99 -> per step
    error_rate: dict[str, list[float | None]]  # family -> trailing-window ratio
    timeout_rate: dict[str, list[float | None]]
    rate_window_s: int
    loop_lag_ms: Series
    telemetry: dict[str, dict[str, Series]]  # signal -> label text ("" if none) -> series
    spend_usd: Series
    soft_cap_usd: float | None
    hard_cap_usd: float | None
    thresholds: dict[str, list[dict[str, Any]]]  # chart key -> [{value, label}]
    bands: list[Band]
    markers: list[Marker]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)


def _label_text(labels: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


def _rates(rows: list[SecondRow], steps: list[float], step: int, window: int,
           family: str) -> tuple[list[float | None], list[float | None]]:
    by_t = {r.second: r for r in rows if r.family == family}
    err: list[float | None] = []
    tmo: list[float | None] = []
    q: deque[tuple[int, int, int]] = deque()
    sums = [0, 0, 0]
    span = max(1, window // step)
    for t in steps:
        r = by_t.get(int(t))
        item = (r.errors, r.timeouts, r.slo) if r else (0, 0, 0)
        q.append(item)
        for i in range(3):
            sums[i] += item[i]
        if len(q) > span:
            old = q.popleft()
            for i in range(3):
                sums[i] -= old[i]
        err.append(sums[0] / sums[2] if sums[2] else None)
        tmo.append(sums[1] / sums[2] if sums[2] else None)
    return err, tmo


def _plan_numbers(reader: RunReader) -> dict[str, Any]:
    try:
        plan = json.loads(reader.plan_json())
    except (OSError, ValueError):
        return {}
    return plan if isinstance(plan, dict) else {}


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _bands(reader: RunReader, end_s: float) -> list[Band]:
    bands = [Band(p.id, "warmup" if p.id == "p0" else "plateau",
                  f"{p.id} {p.target_rps:g} RPS", p.start_s, p.end_s if p.end_s is not None
                  else end_s) for p in reader.plateaus() if p.start_s < max(end_s, 1e-9)]
    open_at: float | None = None
    n = 0
    for e in reader.events():
        if e.kind == "chaos_start" and open_at is None:
            open_at = e.t
        elif e.kind in ("chaos_end", "chaos_revert") and open_at is not None:
            n += 1
            bands.append(Band(f"chaos-{n}", "chaos", "chaos", open_at, e.t))
            open_at = None
    if open_at is not None:
        bands.append(Band(f"chaos-{n + 1}", "chaos", "chaos (not reverted)", open_at, end_s))
    return bands


def _thresholds(plan: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """SLO and limit lines from the plan's criteria, in the charts' units (seconds shown
    in ms, ratios in %). A percentile of a histogram signal is drawn on its quantile
    sample (``db_query_seconds`` p95 -> ``db_query_p95_seconds``)."""
    from perfgate.report.criteria import plan_criteria
    from perfgate.telemetry.spec import quantile_sample_name

    signals = ((plan.get("telemetry") or {}).get("signals") or {}) \
        if isinstance(plan.get("telemetry"), dict) else {}
    out: dict[str, list[dict[str, Any]]] = {}
    for c in plan_criteria(plan):
        label = f"{c.name} {c.op} {c.threshold_text}"
        if c.metric in ("p50", "p90", "p95", "p99") and c.family:
            out.setdefault(f"latency.{c.family}", []).append(
                {"value": c.threshold * 1000, "label": label})
        elif c.metric in ("error_rate", "timeout_rate"):
            out.setdefault("errors", []).append({"value": c.threshold * 100, "label": label})
        elif c.signal:
            name = c.signal
            spec = signals.get(name) if isinstance(signals, dict) else None
            if isinstance(spec, dict) and spec.get("type") == "histogram" and c.stat \
                    and c.stat.startswith("p"):
                name = quantile_sample_name(name, float(c.stat[1:]) / 100)
            value = c.threshold * (100 if name.endswith("_ratio") else 1)
            if name.endswith("_seconds"):
                value = c.threshold * 1000
            out.setdefault(f"telemetry.{name}", []).append({"value": value, "label": label})
    return out


def step_for(total_s: float, max_points: int = MAX_POINTS) -> int:
    """Seconds per chart point: 1, or more for runs longer than ``max_points`` seconds."""
    return max(1, math.ceil(total_s / max_points))


def series_from_store(reader: RunReader, *, scan: StoreScan | None = None,
                      max_points: int = MAX_POINTS) -> ChartData:
    """The charts' data for the run in ``reader`` (finished, aborted, crashed or live).

    ``scan``: reuse a scan of the same store (the report scans once). Runs longer than
    ``max_points`` seconds are shown in steps of ``ceil(seconds / max_points)`` seconds,
    each step's percentiles from its exactly merged histograms.
    """
    meta = reader.meta()
    plateaus = reader.plateaus()
    last_end = max((p.end_s or p.start_s for p in plateaus), default=0.0)
    total_s = float(meta.get("total_s") or last_end)
    step = step_for(max(total_s, last_end), max_points)
    scan = scan if scan is not None and scan.step_s == step else scan_store(reader.run_dir,
                                                                          step=step)
    rows = scan.seconds
    end_s = max([last_end] + [r.second + step for r in rows])
    steps = [float(s) for s in range(0, int(end_s), step)]
    families = sorted({r.family for r in rows})
    sent: dict[int, int] = {}
    for r in rows:
        sent[r.second] = sent.get(r.second, 0) + r.sent
    target: list[float | None] = []
    for t in steps:
        phase = next((p for p in plateaus if p.start_s <= t < (p.end_s or end_s)), None)
        target.append(phase.target_rps if phase else None)
    latency: dict[str, dict[str, list[float | None]]] = {}
    err: dict[str, list[float | None]] = {}
    tmo: dict[str, list[float | None]] = {}
    scale = _float(meta.get("time_scale")) or 1.0
    window = max(step, round(60 * scale))
    for fam in families:
        by_t = {r.second: r for r in rows if r.family == fam}
        latency[fam] = {q: [getattr(by_t[int(t)], f"{q}_ms") if int(t) in by_t else None
                            for t in steps] for q in ("p50", "p95", "p99")}
        err[fam], tmo[fam] = _rates(rows, steps, step, window, fam)
    lag = Series()
    for g in reader.generator_samples():
        lag.x.append(float(g.second))
        lag.y.append(g.loop_lag_p99_us / 1000 if g.loop_lag_p99_us is not None else None)
    telemetry: dict[str, dict[str, Series]] = {}
    for s in reader.samples(source="telemetry"):
        series = telemetry.setdefault(s.name, {}).setdefault(_label_text(s.labels), Series())
        series.x.append(s.t)
        series.y.append(s.value if math.isfinite(s.value) else None)
    spend = Series()
    for s in reader.samples(source="cost", name="spend_usd"):
        spend.x.append(s.t)
        spend.y.append(s.value)
    plan = _plan_numbers(reader)
    budget: dict[str, Any] = plan["budget"] if isinstance(plan.get("budget"), dict) else {}
    markers = [Marker(e.t, MARKER_KINDS[e.kind], e.message[:80], e.plateau)
               for e in reader.events() if e.kind in MARKER_KINDS]
    return ChartData(
        run_id=str(meta.get("run_id", "")), total_s=total_s, step_s=step, t=steps,
        target_rps=target,
        achieved_rps=[sent.get(int(t), 0) / step if t < end_s else None for t in steps],
        latency_ms=latency, error_rate=err, timeout_rate=tmo, rate_window_s=window,
        loop_lag_ms=lag, telemetry=telemetry, spend_usd=spend,
        soft_cap_usd=_float(budget.get("soft_alert_usd")),
        hard_cap_usd=_float(budget.get("hard_cap_usd")),
        thresholds=_thresholds(plan), bands=_bands(reader, end_s), markers=markers)
