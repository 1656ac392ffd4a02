"""Evidence from the run's captures, located through the store's ``capture`` events.

* profiles: py-spy collapsed stacks per plateau (self samples per frame);
* DB statements: per plateau per statement, calls and total time, from
  ``pg_stat_statements`` reads or from the target's ``/metrics`` captures (the
  ``*_sum``/``*_count`` of a histogram labelled ``statement``: the delta between a
  plateau's start and end captures, or between consecutive plateau ends);
* heap snapshots: ``{"top": [{"where", "size_bytes"}]}`` per plateau (studyhall's
  ``/admin/heap``), the growth of each allocation site between the first and last.
A file that is missing or unreadable is skipped (the event already says what failed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from perfgate.capture.flamegraph import Profile, parse_collapsed
from perfgate.store.reader import EventRow

__all__ = ["Evidence", "StatementStats", "gather"]


@dataclass(frozen=True)
class StatementStats:
    calls: float
    total_ms: float

    @property
    def mean_ms(self) -> float | None:
        return self.total_ms / self.calls if self.calls else None


@dataclass
class Evidence:
    #: plateau -> [(svg or raw file, profile)]
    profiles: dict[str, list[tuple[str, Profile]]] = field(default_factory=dict)
    #: plateau -> statement -> stats; and where each plateau's numbers came from
    statements: dict[str, dict[str, StatementStats]] = field(default_factory=dict)
    statement_files: dict[str, str] = field(default_factory=dict)
    #: plateau -> (file, where -> bytes)
    heaps: dict[str, tuple[str, dict[str, float]]] = field(default_factory=dict)
    taken: int = 0
    failed: list[str] = field(default_factory=list)


def _statements_from_metrics(text: str) -> dict[str, StatementStats]:
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError:
        return {}
    for fam in families:
        for s in fam.samples:
            stmt = s.labels.get("statement")
            if stmt is None:
                continue
            if s.name.endswith("_sum"):
                sums[stmt] = sums.get(stmt, 0.0) + s.value
            elif s.name.endswith("_count"):
                counts[stmt] = counts.get(stmt, 0.0) + s.value
    return {k: StatementStats(counts.get(k, 0.0), v * 1000) for k, v in sums.items()}


def _delta(end: dict[str, StatementStats], start: dict[str, StatementStats]
           ) -> dict[str, StatementStats]:
    out = {}
    for k, e in end.items():
        s = start.get(k, StatementStats(0.0, 0.0))
        if e.calls >= s.calls:  # a counter that went down was reset: keep the end value
            out[k] = StatementStats(e.calls - s.calls, e.total_ms - s.total_ms)
        else:
            out[k] = e
    return out


def _heap(data: Any) -> dict[str, float] | None:
    if not isinstance(data, dict) or not isinstance(data.get("top"), list) or not data["top"]:
        return None
    return {str(r.get("where")): float(r.get("size_bytes") or 0) for r in data["top"]
            if isinstance(r, dict)}


def gather(run_dir: Path, events: list[EventRow]) -> Evidence:
    ev = Evidence()
    metrics: dict[str, dict[str, tuple[str, dict[str, StatementStats]]]] = {}
    for e in events:
        d = e.data or {}
        if e.kind != "capture":
            continue
        if not d.get("ok"):
            if not d.get("skipped"):
                ev.failed.append(e.message)
            continue
        ev.taken += 1
        pid, files = str(d.get("plateau")), [str(f) for f in d.get("files") or []]
        for rel in files:
            path = run_dir / rel
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if rel.endswith(".collapsed.txt"):
                svg = next((f for f in files if f.endswith(".svg")), rel)
                ev.profiles.setdefault(pid, []).append((svg, parse_collapsed(text)))
            elif d.get("kind") == "pg_stat_statements" and rel.endswith(".json"):
                rows = json.loads(text).get("statements", [])
                ev.statements[pid] = {str(r["query"]): StatementStats(
                    float(r["calls"]), float(r["total_ms"])) for r in rows}
                ev.statement_files[pid] = rel
            elif d.get("kind") == "http" and rel.endswith(".txt"):
                stmts = _statements_from_metrics(text)
                if stmts:
                    metrics.setdefault(pid, {})[str(d.get("point"))] = (rel, stmts)
            elif d.get("kind") == "http" and rel.endswith(".json"):
                try:
                    heap = _heap(json.loads(text))
                except ValueError:
                    heap = None
                if heap:
                    ev.heaps[pid] = (rel, heap)
    _metrics_deltas(ev, metrics)
    return ev


def _metrics_deltas(ev: Evidence,
                    metrics: dict[str, dict[str, tuple[str, dict[str, StatementStats]]]]
                    ) -> None:
    previous_end: dict[str, StatementStats] | None = None
    for pid in sorted(metrics, key=lambda p: int(p[1:]) if p[1:].isdigit() else 0):
        points = metrics[pid]
        end = points.get("end")
        start = points.get("start")
        if end is not None and pid not in ev.statements:
            base = start[1] if start is not None else previous_end
            if base is not None:
                ev.statements[pid] = _delta(end[1], base)
                ev.statement_files[pid] = end[0]
        previous_end = end[1] if end is not None else None
