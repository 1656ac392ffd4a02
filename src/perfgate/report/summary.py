"""``summary.json``: per plateau, per family (and per mix class and endpoint) SLIs.

Built from the store alone (``RunReader``) so that a finished, aborted or crashed
run summarises the same way. Schema ``perfgate.summary/1``:

    run_id, plan, run_tag, target, status, complete, verdict, reason, time_scale,
    started_at, ended_at,
    plateaus: [{id, index, name, warmup, target_rps, start_s, end_s, duration_s,
                intended, sent, dropped, achieved_rps, valid, invalid_reasons,
                loop_lag_p99_ms, families: {core: SLI, ai: SLI},
                mix_classes: {name: SLI}, endpoints: {name: SLI}}],
    run: {families: {...}}          # all plateaus merged, warm-up excluded
    events: [{t, kind, severity, plateau, message}]

SLI = ``perfgate.metrics.aggregate.SliStats.to_dict()``: requests, errors by kind,
error and timeout rates (401s excluded), P50/P90/P95/P99/max of latency from the
intended send time, service-time P95/P99, rates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from perfgate.controller.validity import DriveFacts, judge_drive
from perfgate.metrics.aggregate import sli_stats
from perfgate.metrics.window import Cell, Window
from perfgate.store.reader import RunReader

SCHEMA = "perfgate.summary/1"


Dims = dict[str, dict[str, Cell]]  # dimension -> name -> merged cell


def _group(windows: Iterable[Window], ends: dict[str, float]) -> tuple[dict[str, Dims],
                                                                       dict[str, int]]:
    """Stream-merge windows: plateau -> dimension -> name -> cell; and per plateau the
    sends made within its span.

    Windows are merged as they stream from the store and then dropped (a cell with
    completions holds two full histograms, so a run's windows must never sit in a list).
    A send made after its plateau ended (the generator fell behind) does not count
    towards that plateau's achieved rate.
    """
    out: dict[str, Dims] = {}
    in_span: dict[str, int] = {}
    for w in windows:
        if w.second < ends.get(w.key.plateau, float("inf")):
            in_span[w.key.plateau] = in_span.get(w.key.plateau, 0) + w.cell.sent
        dims = out.setdefault(w.key.plateau, _empty_dims())
        for dim, name in (("families", w.key.family), ("mix_classes", w.key.mix_class),
                          ("endpoints", w.key.endpoint)):
            cell = dims[dim].get(name)
            if cell is None:
                cell = dims[dim][name] = Cell()
            cell.merge(w.cell)
    return out, in_span


def _empty_dims() -> Dims:
    return {"families": {}, "mix_classes": {}, "endpoints": {}}


def _stats(groups: dict[str, Cell], duration: float) -> dict[str, Any]:
    return {name: sli_stats(cell, duration).to_dict() for name, cell in sorted(groups.items())}


_STATUS_VERDICT = {"aborted": "ABORTED", "failed": "FAIL", "interrupted": "INTERRUPTED"}


def decide_verdict(status: str, any_invalid: bool) -> str:
    """The call, from how the run ended and whether every plateau was really driven.

    ABORTED (a trigger, the cost cap or the perf lead) and FAIL (a red plateau) stand
    whatever else; a run that completed is INVALID when any analysed plateau was
    under-driven, else PASS; a run that never closed its store (crash, SIGKILL) is
    INCOMPLETE.
    """
    if status in _STATUS_VERDICT:
        return _STATUS_VERDICT[status]
    if status != "completed":
        return "INCOMPLETE"
    return "INVALID" if any_invalid else "PASS"


def build_summary(reader: RunReader) -> dict[str, Any]:
    meta = reader.meta()
    rows = reader.plateaus()
    ends = {p.id: p.end_s for p in rows if p.end_s is not None}
    grouped, in_span = _group(reader.windows(), ends)
    lag_by_plateau: dict[str, list[int]] = {}
    for g in reader.generator_samples():
        for p in rows:
            if g.loop_lag_p99_us is not None and p.start_s <= g.second < (p.end_s or 1e18):
                lag_by_plateau.setdefault(p.id, []).append(g.loop_lag_p99_us)
    plateaus: list[dict[str, Any]] = []
    run_families: dict[str, Cell] = {}
    invalid = False
    for p in rows:
        duration = max((p.end_s or p.start_s) - p.start_s, 0.0)
        dims = grouped.get(p.id, _empty_dims())
        fam_cells = dims["families"]
        sent = sum(c.sent for c in fam_cells.values())
        dropped = sum(c.dropped for c in fam_cells.values())
        intended = sent + dropped
        lags = sorted(lag_by_plateau.get(p.id, []))
        # p99 of per-second p99s: a conservative reading of the plateau's loop lag
        lag_p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))] / 1000 if lags else None
        validity = judge_drive(DriveFacts(p.target_rps, duration, intended,
                                          in_span.get(p.id, 0), dropped, lag_p99))
        warmup = p.id == "p0"
        if not warmup:
            invalid = invalid or not validity.valid
            for fam, cell in fam_cells.items():
                run_families.setdefault(fam, Cell()).merge(cell)
        plateaus.append({
            "id": p.id, "index": p.idx, "name": p.name, "warmup": warmup,
            "excluded_from_analysis": warmup, "status": p.status,
            "target_rps": p.target_rps, "start_s": p.start_s, "end_s": p.end_s,
            "duration_s": duration, "intended": intended, "sent": sent, "dropped": dropped,
            "achieved_rps": validity.achieved_rps, "scheduled_rps": validity.intended_rps,
            "valid": validity.valid, "invalid_reasons": validity.reasons,
            "loop_lag_p99_ms": lag_p99,
            "families": _stats(dims["families"], duration),
            "mix_classes": _stats(dims["mix_classes"], duration),
            "endpoints": _stats(dims["endpoints"], duration),
        })
    analysed = sum(p["duration_s"] for p in plateaus if not p["warmup"])
    status = reader.status
    verdict = decide_verdict(status, invalid)
    events = [{"t": e.t, "kind": e.kind, "severity": e.severity, "plateau": e.plateau,
               "message": e.message} for e in reader.events()]
    return {
        "schema": SCHEMA,
        "run_id": meta.get("run_id"), "plan": meta.get("plan_name"),
        "run_tag": meta.get("run_tag"), "target": meta.get("target"),
        "status": status, "complete": reader.is_complete,
        "verdict": verdict, "reason": meta.get("reason"),
        "time_scale": meta.get("time_scale"),
        "started_at": meta.get("started_at"), "ended_at": meta.get("ended_at"),
        "criteria_evaluated": 0,
        "plateaus": plateaus,
        "run": {"duration_s": analysed, "families": _stats(run_families, analysed)},
        "events": events,
    }


def write_summary(run_dir: Path, summary: dict[str, Any]) -> Path:
    path = run_dir / "summary.json"
    tmp = run_dir / ".summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path
