"""Stability and resilience verdicts from a run's store alone (also a crashed run's).

Reads: plateaus; ``samples`` (telemetry ``rss_bytes``, ``gc_pauses_over_100ms``,
``breaker_state``; names from the plan's ``stability`` section); per-second window
counts; ``chaos_start``/``chaos_end``/``trigger_fired`` events; the cost ``ledger``
(AI paths, billing, keys) when the run had a budget. Window counts and the ledger are
read with plain SQL on a read-only connection (the decoded-histogram reader would
cost ~370 KiB per window for numbers we do not need).
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from perfgate.plan.models import Plan
from perfgate.stability.cascade import ErrorCount, cascade_verdict
from perfgate.stability.gc import gc_verdict
from perfgate.stability.leak import PlateauSeries, leak_verdict
from perfgate.stability.resilience import AiCall, breaker_verdict, failover_verdict
from perfgate.stability.spec import StabilitySpec
from perfgate.stability.verdict import Verdict, combine
from perfgate.store.reader import RunReader
from perfgate.store.writer import DB_NAME

__all__ = ["judge_store", "stability_sections"]

_ERRORS = "http_4xx + http_5xx + timeout + connect + other"


def _plan(reader: RunReader) -> Plan | None:
    try:
        return Plan.model_validate_json(reader.plan_json())
    except (OSError, ValidationError, ValueError):
        return None


def _sql(reader: RunReader, query: str) -> list[tuple[Any, ...]]:
    path = (reader.run_dir / DB_NAME).resolve()
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return list(conn.execute(query))
    except sqlite3.OperationalError:  # table absent (no budget in this run)
        return []
    finally:
        conn.close()


def _dec(text: object) -> Decimal | None:
    try:
        return Decimal(str(text)) if text is not None else None
    except InvalidOperation:
        return None


def _calls(reader: RunReader) -> list[AiCall]:
    rows = _sql(reader, "SELECT t, status, path, billed_usd, provider_key, finding FROM ledger "
                        "ORDER BY t")
    return [AiCall(float(t), int(s) if s is not None else None, p, _dec(b), k, f or None)
            for t, s, p, b, k, f in rows]


def _windows() -> str:
    return (f"SELECT second, family, SUM({_ERRORS}), SUM(ok + {_ERRORS}), SUM(timeout) "
            "FROM windows WHERE plateau != 'p0' GROUP BY second, family")


def judge_store(reader: RunReader) -> dict[str, Any]:
    """``{"stability": {...}, "resilience": {...}}`` with every verdict and its evidence."""
    meta = reader.meta()
    plan = _plan(reader)
    spec = getattr(plan, "stability", None)
    spec = spec if isinstance(spec, StabilitySpec) else StabilitySpec()
    scale = float(meta.get("time_scale") or 1.0)
    plateaus = [p for p in reader.plateaus() if p.id != "p0" and p.end_s is not None]
    start = min((p.start_s for p in plateaus), default=0.0)
    end = max((p.end_s or p.start_s for p in plateaus), default=0.0)
    rss = [(s.t, s.value) for s in reader.samples("telemetry", spec.leak.signal)]
    series = [PlateauSeries(p.id, p.start_s, p.end_s or p.start_s,
                            [(t, v) for t, v in rss if p.start_s <= t < (p.end_s or t)])
              for p in plateaus]
    gcs = [(s.t, s.value) for s in reader.samples("telemetry", spec.gc.signal)]
    ai_fams = {mc.family for mc in plan.mix.values() if any(e.ai for e in mc.endpoints)} \
        if plan else {"ai"}
    rows = _sql(reader, _windows())
    counts = [ErrorCount(int(s), f, int(e or 0), int(n or 0)) for s, f, e, n, _ in rows]
    # chaos windows, from the events the chaos hook wrote
    starts = {e.data.get("fault"): e for e in reader.events("chaos_start") if e.data}
    ends = {e.data.get("fault"): e for e in reader.events("chaos_end") if e.data}
    faults = []
    for name, ev in starts.items():
        data = ev.data or {}
        stop = ends[name].t if name in ends else float(data.get("planned_end_s") or end)
        faults.append((str(name), ev.t, stop, data))
    exclude = [(a, b + float(d.get("recovery_s") or 0)) for _, a, b, d in faults]
    stability = [
        leak_verdict(series, spec.leak, scale),
        gc_verdict(gcs, spec.gc, start, end) if plateaus else
        Verdict("gc_pauses", "INSUFFICIENT", "no analysed plateau"),
        cascade_verdict(counts, spec.cascade, start_s=start, end_s=end,
                        window_s=max(1.0, spec.cascade.window * scale), exclude=exclude),
    ]
    resilience: list[Verdict] = []
    calls = _calls(reader) if faults else []
    breaker = [(s.t, s.value) for s in reader.samples("telemetry", "breaker_state")]
    fired = [(e.t, e.message) for e in reader.events("trigger_fired")]
    for name, a, b, data in faults:
        purpose = data.get("purpose", "breaker")
        recovery = float(data.get("recovery_s") or 60.0)
        if purpose == "breaker":
            inside = [(e, n, t) for s, f, e, n, t in rows if f in ai_fams and a <= s < b]
            resilience.append(breaker_verdict(
                fault=name, start=a, end=b, recovery_s=recovery, breaker=breaker, calls=calls,
                ai_requests=sum(int(n or 0) for _, n, _ in inside),
                ai_errors=sum(int(e or 0) for e, _, _ in inside),
                ai_timeouts=sum(int(t or 0) for _, _, t in inside)))
        elif purpose == "failover":
            resilience.append(failover_verdict(drill=name, start=a, end=b, within_s=recovery,
                                               calls=calls, triggers_fired=fired))
    return {
        "stability": {"verdict": combine([v.status for v in stability]),
                      "verdicts": [v.to_dict() for v in stability]},
        "resilience": {"verdict": combine([v.status for v in resilience]),
                       "verdicts": [v.to_dict() for v in resilience]},
    }


def stability_sections(reader: RunReader) -> dict[str, Any]:
    """summary.json's ``preflight``, ``chaos``, ``resilience`` and ``stability`` keys: the
    stored results when the run wrote them, else judged from the store now."""
    meta = reader.meta()
    judged: dict[str, Any] = {}
    if "stability" not in meta or "resilience" not in meta:
        judged = judge_store(reader)
    return {"preflight": meta.get("preflight"), "chaos": meta.get("chaos"),
            "resilience": meta.get("resilience", judged.get("resilience")),
            "stability": meta.get("stability", judged.get("stability"))}
