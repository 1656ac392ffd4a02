"""Synthetic run stores with known answers: for tests, benchmarks and the dashboard's tests.

A :class:`SyntheticRun` describes a run as models (latency of each endpoint as a function
of the load, error rates, telemetry as functions of load and time, a flat cost per AI
call); :func:`write_store` writes it through the real :class:`~perfgate.store.RunWriter`,
so whatever reads a real store reads these the same way.

Latency model of an endpoint at load ``rps``: ``base_ms x exp(growth x rps)``, each
request multiplied by a lognormal factor ``exp(N(0, jitter))``; with ``jitter=0`` every
request of a plateau has exactly that latency, so the plateau's percentiles are known
to HdrHistogram's precision (<= 0.1%).
"""

from __future__ import annotations

import contextlib
import math
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from perfgate.guards.budget import PlateauCost
from perfgate.metrics.outcome import Outcome
from perfgate.metrics.window import Cell, SeriesKey, Window
from perfgate.plan.loader import parse_plan
from perfgate.plan.models import Plan
from perfgate.report.synthetic_extras import Capturer, ai_rows, judge_plateau
from perfgate.store.writer import DB_NAME, RunWriter
from perfgate.telemetry.series import SignalStore

__all__ = ["PERF6B_ENDPOINTS", "EndpointModel", "SyntheticRun", "perf6b_plan", "write_store"]


@dataclass(frozen=True)
class EndpointModel:
    name: str
    family: str
    mix_class: str
    share: float  # of all arrivals
    base_ms: float
    growth: float = 0.0  # per RPS, in the exponent
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    jitter: float = 0.0

    def latency_ms(self, rps: float) -> float:
        return self.base_ms * math.exp(self.growth * rps)


#: perf-6b's mix (35/40/25; search 60/40 browse; analyze 60/40 generate).
PERF6B_ENDPOINTS: tuple[EndpointModel, ...] = (
    EndpointModel("profile", "core", "profile_reads", 0.35, 15.0, 0.010, jitter=0.3),
    EndpointModel("search", "core", "search_browse", 0.24, 22.0, 0.016, 0.0002, jitter=0.35),
    EndpointModel("browse", "core", "search_browse", 0.16, 18.0, 0.008, jitter=0.3),
    EndpointModel("ai_analyze", "ai", "ai_analysis", 0.15, 300.0, 0.005, 0.0003, 0.0003,
                  jitter=0.25),
    EndpointModel("ai_generate", "ai", "ai_analysis", 0.10, 420.0, 0.005, 0.0003, 0.0003,
                  jitter=0.25),
)

Signal = Callable[[float, float], float]  # (t, rps) -> value


def _default_telemetry() -> dict[str, Signal]:
    return {
        "cpu_percent": lambda t, r: 8.0 + 0.9 * r,
        "rss_bytes": lambda t, r: 300e6 + 2_000.0 * t,
        "gc_pause_p99_seconds": lambda t, r: 0.01 + 0.0005 * r,
        "db_query_p95_seconds": lambda t, r: 0.004 * math.exp(0.03 * r),
        "db_pool_size": lambda t, r: 20.0,
        "db_pool_in_use": lambda t, r: 0.15 * r,
        "db_pool_free_ratio": lambda t, r: 1.0 - 0.15 * r / 20.0,
        "queue_depth": lambda t, r: 0.5 * r,
        "queue_oldest_age_seconds": lambda t, r: 2.0 + 0.3 * r,
        "breaker_state": lambda t, r: 0.0,
    }


@dataclass(frozen=True)
class SyntheticRun:
    run_id: str = "synthetic-perf6b"
    warmup: tuple[float, float] | None = (10.0, 300.0)  # (rps, seconds)
    plateaus: tuple[tuple[float, float], ...] = (
        (21.0, 1020.0), (31.0, 1020.0), (41.0, 1020.0), (52.0, 1020.0), (62.0, 1020.0))
    endpoints: tuple[EndpointModel, ...] = PERF6B_ENDPOINTS
    rate_factor: float = 1.0  # multiplies the achieved rate (1.0: exactly the target)
    seed: int = 6
    status: str = "completed"  # "running" leaves the store unclosed: a crash
    stop_at_s: float | None = None  # the run ends here (abort or crash)
    reason: str | None = None
    abort: dict[str, Any] | None = None
    telemetry: dict[str, Signal] = field(default_factory=_default_telemetry)
    telemetry_every_s: float = 5.0
    ledger: bool = True  # AI calls priced by the plan's budget (none without one)
    provider_rate_limited_share: float = 0.0
    chaos: tuple[float, float] | None = None  # (start_s, end_s): breaker open, fallbacks
    judge: bool = True  # the plan's criteria, judged per plateau by the guards' judge
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)  # pid -> name -> verdict
    ramp_discipline: bool = True  # a red plateau ends the run (status "failed")
    captures: bool = True
    heap_growth_mb: tuple[float, float] = (5.0, 12.0)  # the hot site at p4, p5
    extra_events: tuple[tuple[float, str, str, str, str | None], ...] = ()
    plan: Plan | None = None
    time_scale: float = 1.0


def perf6b_plan() -> Plan:
    text = resources.files("perfgate").joinpath("plans/perf-6b.yaml").read_text("utf-8")
    return parse_plan(text, "perfgate/plans/perf-6b.yaml")


def _phases(run: SyntheticRun) -> list[tuple[str, int, str, float, float, float]]:
    out = []
    start = 0.0
    stages = ([(0, run.warmup)] if run.warmup else []) + list(enumerate(run.plateaus, 1))
    for idx, (rps, dur) in stages:
        name = "warm-up" if idx == 0 else f"plateau {idx}"
        out.append((f"p{idx}", idx, name, rps, start, start + dur))
        start += dur
    return out


def _count(rng: random.Random, mean: float) -> int:
    """An integer with the given mean (floor plus a Bernoulli remainder): exact totals."""
    base = math.floor(mean)
    return base + (1 if rng.random() < mean - base else 0)


def _cell(rng: random.Random, ep: EndpointModel, n: int, rps: float) -> Cell:
    cell = Cell()
    cell.add_sent(n)
    lat_ms = ep.latency_ms(rps)
    for _ in range(n):
        u = rng.random()
        factor = math.exp(rng.gauss(0.0, ep.jitter)) if ep.jitter else 1.0
        us = max(1, int(lat_ms * factor * 1000))
        if u < ep.timeout_rate:
            cell.record(Outcome.TIMEOUT, us, us)
        elif u < ep.timeout_rate + ep.error_rate:
            cell.record(Outcome.HTTP_5XX, us, us)
        else:
            cell.record(Outcome.OK, us, max(1, int(us * 0.9)))
    return cell


@dataclass
class _State:
    run: SyntheticRun
    plan: Plan
    writer: RunWriter
    rng: random.Random
    signals: SignalStore = field(default_factory=SignalStore)
    spend: Decimal = Decimal(0)
    calls: int = 0
    requests: int = 0


def _second(st: _State, pid: str, rps: float, second: int, cost: PlateauCost,
            cells: dict[str, Cell]) -> None:
    run, windows, rows = st.run, [], []
    chaos = run.chaos is not None and run.chaos[0] <= second < run.chaos[1]
    for ep in run.endpoints:
        n = _count(st.rng, rps * run.rate_factor * ep.share)
        cell = _cell(st.rng, ep, n, rps)
        windows.append(Window(second, SeriesKey(pid, ep.family, ep.mix_class, ep.name), cell))
        cells.setdefault(ep.family, Cell()).merge(cell)
        st.requests += cell.completed
        if ep.family == "ai" and run.ledger:
            rows += ai_rows(st.plan, st.rng, second + 0.5, pid, ep.name, n,
                            0.5 if chaos else 0.0, cost)
    st.writer.add_windows(windows)
    if rows:
        st.writer.add_ledger_rows(rows)
        st.calls += len(rows)
        st.spend = sum((Decimal(r["provider_cost_usd"]) for r in rows), st.spend)
    st.writer.add_generator_sample(second, loop_lag_p99_us=800, loop_lag_max_us=2000,
                                   cpu_percent=20.0, rss_bytes=90_000_000,
                                   inflight=int(rps), target_rps=rps)
    if second % run.telemetry_every_s == 0:
        _telemetry(st, float(second), rps, chaos)
        if st.plan.budget is not None and run.ledger:
            st.writer.add_sample(second, "cost", "spend_usd", float(st.spend))
            st.writer.add_sample(second, "cost", "ai_calls", float(st.calls))
            if st.requests:
                st.writer.add_sample(second, "cost", "usd_per_1k_requests",
                                     float(st.spend / st.requests * 1000))
    if second % 60 == 59:
        st.writer.commit()


def write_store(run_dir: Path, run: SyntheticRun | None = None) -> Path:
    """Write ``run`` as a store in ``run_dir`` (created); return ``run_dir``."""
    run = run or SyntheticRun()
    plan = run.plan or perf6b_plan()
    phases = _phases(run)
    end_s = phases[-1][5] if run.stop_at_s is None else min(run.stop_at_s, phases[-1][5])
    writer = RunWriter.create(
        run_dir, run.run_id, plan.model_dump_json(by_alias=True, indent=2),
        {"plan_name": plan.name, "run_tag": plan.run_tag, "target": plan.target.base_url,
         "time_scale": run.time_scale, "total_s": phases[-1][5]},
        start_epoch_s=1_700_000_000.0)
    st = _State(run, plan, writer, random.Random(run.seed))
    capturer = Capturer(writer, run_dir) if run.captures else None
    writer.add_event(0.0, "run_start", f"run {run.run_id} started")
    status, failed = run.status, None
    for pid, idx, name, rps, start, stop in phases:
        if start >= end_s or failed:
            break
        cut = stop > end_s
        writer.upsert_plateau(pid, idx, name, rps, start, min(stop, end_s),
                              "cut" if cut else "done")
        writer.add_event(start, "phase_start", f"{pid} {name} at {rps:g} RPS", plateau=pid)
        cost, cells = PlateauCost(), dict[str, Cell]()
        if capturer and idx:
            capturer.metrics(start, pid, "start", rps, 0.0)
        for second in range(int(start), int(min(stop, end_s))):
            _second(st, pid, rps, second, cost, cells)
        if cut:
            continue
        writer.add_event(stop, "phase_end", f"{pid} {name} ended", plateau=pid)
        if capturer and idx:
            capturer.metrics(stop, pid, "end", rps, stop - start)
            capturer.profile((start + stop) / 2, pid, rps)
            if idx in (4, 5):
                capturer.heap(stop, pid, run.heap_growth_mb[idx - 4])
        if run.judge and idx:
            verdict = judge_plateau(writer, plan, pid, start, stop, cells, st.signals,
                                    cost if run.ledger else None, run.overrides.get(pid, {}))
            if verdict is not None:
                writer.upsert_plateau(pid, idx, name, rps, start, stop, "done", verdict)
                if verdict["verdict"] == "FAIL" and run.ramp_discipline:
                    failed = (pid, f"{pid} red: {', '.join(verdict['failed'])}")
                    end_s = stop
    for t, kind, message, severity, plateau in run.extra_events:
        writer.add_event(t, kind, message, severity=severity, plateau=plateau)
    if run.chaos is not None:
        writer.add_event(run.chaos[0], "chaos_start", "20% packet loss on AI egress",
                         plateau="p4")
        writer.add_event(run.chaos[1], "chaos_end", "packet loss reverted", plateau="p4")
    if failed is not None and status == "completed":
        status = "failed"
        writer.add_event(end_s, "fail", f"{failed[0]} red, not advancing: {failed[1]}",
                         severity="critical", plateau=failed[0])
        writer.set_meta("failed_plateau", failed[0])
        writer.set_meta("reason", failed[1])
    if run.reason is not None:
        writer.set_meta("reason", run.reason)
    if run.abort is not None:
        writer.set_meta("abort", run.abort)
        writer.add_event(float(run.abort.get("t", end_s)), "abort",
                         f"ABORT ({run.abort.get('kind')}): {run.abort.get('message')}",
                         severity="critical", plateau=run.abort.get("plateau"))
    if status == "running":  # a crash: everything committed, the store never closed
        writer.close("crashed")
        with contextlib.closing(sqlite3.connect(run_dir / DB_NAME)) as conn, conn:
            conn.execute("UPDATE meta SET value = '\"running\"' WHERE key = 'status'")
            conn.execute("DELETE FROM meta WHERE key = 'ended_at'")
        return run_dir
    writer.add_event(end_s, "run_end", f"run {status}")
    writer.close(status)
    return run_dir


def _telemetry(st: _State, t: float, rps: float, chaos: bool) -> None:
    for name, fn in st.run.telemetry.items():
        value = 2.0 if chaos and name == "breaker_state" else fn(t, rps)
        st.writer.add_sample(t, "telemetry", name, value)
        st.signals.add(t, name, value)
    if not st.run.telemetry:
        return
    ai_rps = rps * sum(e.share for e in st.run.endpoints if e.family == "ai")
    limited = ai_rps * st.run.provider_rate_limited_share
    for outcome, value in (("ok", ai_rps - limited), ("rate_limited", limited)):
        if value or outcome == "ok":
            labels = {"key": "primary", "outcome": outcome}
            st.writer.add_sample(t, "telemetry", "provider_requests_rate", value, labels)
            st.signals.add(t, "provider_requests_rate", value, labels)
