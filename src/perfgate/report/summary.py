"""``summary.json``: per plateau, per family (and per mix class and endpoint) SLIs.

The whole schema, every producer's keys and the report's ``report`` key included, is
documented in ``docs/summary-schema.md``.

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

Guards (``perfgate.guards``): each plateau also has ``verdict`` (its verdict_json:
``{verdict, families, failed, insufficient, cut, mode}``) and ``criteria`` (its
``criteria_results`` rows); top level: ``criteria_evaluated``, ``guards_mode``,
``safe_rps``/``safe_plateau`` (the last green plateau), ``triggers`` (fired and final
states), ``cost`` (spend, billed, cap, refusals, markup/fallback findings with
examples, per plateau), ``reconciliation`` (three ledgers, one total, findings).

Pre-run and resilience (``perfgate.preflight``, ``perfgate.chaos``, ``perfgate.stability``):
``preflight`` (the checklist, or ``{skipped: true}`` for ``--skip-preflight``), ``chaos``
(each fault's planned/actual window and verified revert), ``resilience`` and
``stability`` (``{verdict, verdicts: [{name, status, message, evidence}]}``).

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
from perfgate.metrics import histogram as hist
from perfgate.metrics.aggregate import sli_stats
from perfgate.metrics.histogram import HdrHistogram
from perfgate.metrics.window import Cell, Window
from perfgate.report.scan import StoreScan, scan_store
from perfgate.stability.fromstore import stability_sections
from perfgate.store.reader import PlateauRow, RunReader

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


def decide_verdict(status: str, any_invalid: bool, any_red: bool = False) -> str:
    """The call, from how the run ended and whether every plateau was really driven.

    ABORTED (a trigger, the cost cap or the perf lead) and FAIL (a red plateau) stand
    whatever else; a run that completed is FAIL when a plateau was judged red (guards in
    observe mode, or the last plateau's verdict at the very end), INVALID when any
    analysed plateau was under-driven, else PASS; a run that never closed its store
    (crash, SIGKILL) is INCOMPLETE.
    """
    if status in _STATUS_VERDICT:
        return _STATUS_VERDICT[status]
    if status != "completed":
        return "INCOMPLETE"
    if any_red:
        return "FAIL"
    return "INVALID" if any_invalid else "PASS"


def _guard_sections(reader: RunReader, meta: dict[str, Any]) -> dict[str, Any]:
    """The guards' results as stored: criteria rows by plateau and the run-level meta."""
    by_plateau: dict[str, list[dict[str, Any]]] = {}
    for row in reader.criteria_results():
        by_plateau.setdefault(str(row["plateau"]), []).append(row)
    return {"criteria": by_plateau,
            **{k: meta.get(k) for k in ("guards_mode", "safe_rps", "safe_plateau", "triggers",
                                        "cost", "cost_by_plateau", "reconciliation")}}


def _group_scan(scan: StoreScan, ends: dict[str, float]) -> tuple[dict[str, Dims],
                                                                 dict[str, int]]:
    """As :func:`_group`, from a one-pass scan (the same cells, exactly; much faster)."""
    out: dict[str, Dims] = {}
    for key, cell in scan.cells().items():
        dims = out.setdefault(key.plateau, _empty_dims())
        for dim, name in (("families", key.family), ("mix_classes", key.mix_class),
                          ("endpoints", key.endpoint)):
            merged = dims[dim].get(name)
            if merged is None:
                merged = dims[dim][name] = Cell()
            merged.merge(cell)
    in_span = {p: scan.sent_before(p, ends.get(p)) for p in scan.sent_by_second}
    return out, in_span


def plateau_loop_lag_p99_ms(reader: RunReader, rows: list[PlateauRow]) -> dict[str, float]:
    """Each plateau's generator loop-lag p99 over all its lag samples (exact: the
    per-second histograms merged). Stores without histograms fall back to the p99 of the
    per-second p99s, which is stricter."""
    merged: dict[str, HdrHistogram] = {}
    fallback: dict[str, list[int]] = {}
    for g in reader.generator_samples():
        plateau = next((p.id for p in rows
                        if p.start_s <= g.second < (p.end_s or float("inf"))), None)
        if plateau is None:
            continue
        if g.loop_lag_hist is not None:
            target = merged.get(plateau)
            if target is None:
                target = merged[plateau] = hist.new_histogram()
            hist.merge_into(target, hist.decode(g.loop_lag_hist))
        elif g.loop_lag_p99_us is not None:
            fallback.setdefault(plateau, []).append(g.loop_lag_p99_us)
    out: dict[str, float] = {}
    for plateau, lags in fallback.items():
        lags.sort()
        out[plateau] = lags[min(len(lags) - 1, int(0.99 * len(lags)))] / 1000
    for plateau, h in merged.items():
        value = hist.percentile_ms(h, 99)
        if value is not None:
            out[plateau] = value
    return out


def build_summary(reader: RunReader, scan: StoreScan | None = None) -> dict[str, Any]:
    """``scan``: a :func:`perfgate.report.scan.scan_store` of this run, when the caller
    already has one (the report scans once for the summary and the charts)."""
    meta = reader.meta()
    rows = reader.plateaus()
    ends = {p.id: p.end_s for p in rows if p.end_s is not None}
    grouped, in_span = _group_scan(scan or scan_store(reader.run_dir), ends)
    lag_p99_by_plateau = plateau_loop_lag_p99_ms(reader, rows)
    guards = _guard_sections(reader, meta)
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
        lag_p99 = lag_p99_by_plateau.get(p.id)
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
            "verdict": p.verdict,
            "criteria": guards["criteria"].get(p.id, []),
        })
    analysed = sum(p["duration_s"] for p in plateaus if not p["warmup"])
    status = reader.status
    red = any((p["verdict"] or {}).get("verdict") == "FAIL" and not p["verdict"].get("cut")
              for p in plateaus if not p["warmup"])  # a plateau cut short never ramps
    verdict = decide_verdict(status, invalid, red)
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
        "criteria_evaluated": sum(len(v) for v in guards["criteria"].values()),
        **{k: v for k, v in guards.items() if k != "criteria"},
        "plateaus": plateaus,
        "run": {"duration_s": analysed, "families": _stats(run_families, analysed)},
        "events": events,
        # preflight, chaos, resilience, stability (perfgate.preflight/.chaos/.stability)
        **stability_sections(reader),
    }


def write_summary(run_dir: Path, summary: dict[str, Any]) -> Path:
    path = run_dir / "summary.json"
    tmp = run_dir / ".summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path
