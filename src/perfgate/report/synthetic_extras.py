"""What a synthetic run adds beyond load: AI ledger rows, criteria verdicts judged by the
guards' own judge, and capture files with their events (for :mod:`.synthetic`).

AI calls: every AI request is one ledger row priced from its tokens with the plan's
price table (``budget``), billed at the markup; fallbacks (``fallback_share``) bill 0.
Criteria: each plateau's merged cells, telemetry and cost go through
``perfgate.guards.criteria.judge``, so the verdicts are the ones a real run would store.
Captures: a py-spy profile whose hot frame's share grows with load, ``/metrics`` text at
each plateau's start and end with DB statement histograms, heap top-N at p4 and p5.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from perfgate.guards.budget import PlateauCost, call_cost, usd
from perfgate.guards.criteria import PlateauFacts, judge, plateau_verdict
from perfgate.metrics.window import Cell
from perfgate.plan.models import Plan
from perfgate.store.writer import RunWriter
from perfgate.telemetry.series import SignalStore

__all__ = ["Capturer", "ai_rows", "judge_plateau"]


def ai_rows(plan: Plan, rng: random.Random, t: float, pid: str, endpoint: str, n: int,
            fallback_share: float, cost: PlateauCost) -> list[dict[str, Any]]:
    budget = plan.budget
    if budget is None or n == 0:
        return []
    spec = next((e.ai for m in plan.mix.values() for e in m.endpoints if e.name == endpoint),
                None)
    prompt0, completion0 = (spec.prompt_tokens, spec.max_tokens // 2) if spec else (400, 200)
    price = budget.prices[budget.model]
    rows = []
    for i in range(n):
        rid = f"syn-{pid}-{int(t)}-{endpoint}-{i}"
        if rng.random() < fallback_share:
            rows.append({"t": t, "request_id": rid, "plateau": pid, "endpoint": endpoint,
                         "status": 200, "path": "cache", "model": budget.model,
                         "provider_key": "none", "prompt_tokens": 0, "completion_tokens": 0,
                         "provider_cost_usd": "0", "billed_usd": "0",
                         "expected_billed_usd": "0"})
            cost.ai_calls += 1
            cost.fallback_calls += 1
            continue
        p = max(1, int(prompt0 * rng.uniform(0.9, 1.1)))
        c = max(1, int(completion0 * rng.uniform(0.6, 1.2)))
        amount = call_cost(price, p, c)
        billed = budget.markup * amount
        rows.append({"t": t, "request_id": rid, "plateau": pid, "endpoint": endpoint,
                     "status": 200, "path": "provider", "model": budget.model,
                     "provider_key": "primary", "prompt_tokens": p, "completion_tokens": c,
                     "reserved_usd": usd(amount), "provider_cost_usd": usd(amount),
                     "header_cost_usd": usd(amount), "billed_usd": usd(billed),
                     "expected_billed_usd": usd(billed)})
        cost.ai_calls += 1
        cost.provider_calls += 1
        cost.provider_cost += amount
        cost.billed += billed
        cost.cost_sq += float(amount) ** 2
    return rows


def judge_plateau(writer: RunWriter, plan: Plan, pid: str, start: float, end: float,
                  cells: Mapping[str, Cell], signals: SignalStore, cost: PlateauCost | None,
                  overrides: Mapping[str, str]) -> dict[str, Any] | None:
    """Judge the plan's criteria on one plateau and store the rows; return the plateau's
    verdict (``verdict_json``), None without criteria."""
    if not plan.criteria:
        return None
    merged = Cell()
    for cell in cells.values():
        merged.merge(cell)
    hist = frozenset(n for n, s in (plan.telemetry.signals.items() if plan.telemetry else ())
                     if s.type == "histogram")
    by_family: dict[str | None, Cell] = dict(cells.items())
    by_family[None] = merged
    facts = PlateauFacts(pid, start, end, by_family, signals, hist, cost,
                         plan.budget.infra_usd_per_hour if plan.budget else Decimal(0))
    results = [judge(c, facts) for c in plan.criteria]
    rows = []
    for r in results:
        row = r.to_row(pid, end)
        if r.spec.name in overrides:
            row["verdict"] = overrides[r.spec.name]
            row["detail"] = {**row["detail"], "sentence": f"{r.spec.name}: {row['verdict']} "
                                                          "(synthetic override)"}
        writer.put_criterion_result(row)
        rows.append(row)
    verdicts = {row["verdict"] for row in rows}
    verdict = "FAIL" if "FAIL" in verdicts else "PASS" if "PASS" in verdicts else "INSUFFICIENT"
    summary = plateau_verdict(results)
    summary["verdict"] = verdict
    summary["failed"] = [row["name"] for row in rows if row["verdict"] == "FAIL"]
    return summary


class Capturer:
    """Writes capture files and ``capture`` events as the CaptureHook would."""

    def __init__(self, writer: RunWriter, run_dir: Path, hot_frame: str = "rank_results "
                 "(studyhall/services.py:88)") -> None:
        self.writer, self.run_dir, self.hot = writer, run_dir, hot_frame
        self.db: dict[str, list[float]] = {"search_like": [0.0, 0.0], "profile_get":
                                           [0.0, 0.0]}

    def _event(self, t: float, pid: str, name: str, kind: str, point: str,
               files: list[str]) -> None:
        self.writer.add_event(t, "capture", f"capture {name} ({kind}) at {pid} {point}: "
                              + ", ".join(files), plateau=pid,
                              data={"name": name, "kind": kind, "plateau": pid, "point": point,
                                    "ok": True, "skipped": False, "files": files})

    def _write(self, rel: str, text: str) -> str:
        path = self.run_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return rel

    def metrics(self, t: float, pid: str, point: str, rps: float, seconds: float) -> None:
        if point == "end":  # statement cost grows with load: search_like super-linearly
            for stmt, calls, mean_s in (("search_like", 0.24 * rps, 0.00008 * rps ** 1.5),
                                        ("profile_get", 0.35 * rps, 0.003)):
                self.db[stmt][0] += calls * seconds
                self.db[stmt][1] += calls * seconds * mean_s
        lines = ["# TYPE studyhall_db_query_seconds histogram"]
        for stmt, (count, total) in sorted(self.db.items()):
            lines += [f'studyhall_db_query_seconds_count{{statement="{stmt}"}} {count}',
                      f'studyhall_db_query_seconds_sum{{statement="{stmt}"}} {total}']
        rel = self._write(f"captures/{pid}/db_queue_trace.{point}.txt", "\n".join(lines) + "\n")
        self._event(t, pid, "db_queue_trace", "http", point, [rel])

    def profile(self, t: float, pid: str, rps: float) -> None:
        hot = int(10 * rps)
        text = (f"main (app.py:1);handle (app.py:20);{self.hot} {hot}\n"
                f"main (app.py:1);handle (app.py:20);to_json (json/encoder.py:200) 300\n"
                f"main (app.py:1);poll (asyncio/base_events.py:1900) 400\n")
        raw = self._write(f"captures/{pid}/cpu_profile.mid.collapsed.txt", text)
        svg = self._write(f"captures/{pid}/cpu_profile.mid.svg", "<svg/>")
        self._event(t, pid, "cpu_profile", "pyspy", "mid", [raw, svg])

    def heap(self, t: float, pid: str, growth_mb: float) -> None:
        data = {"top": [{"where": "studyhall/cache.py:41", "size_bytes": int(growth_mb * 1e6),
                         "count": 100},
                        {"where": "json/decoder.py:353", "size_bytes": 2_000_000, "count": 9}]}
        rel = self._write(f"captures/{pid}/heap.end.json", json.dumps(data))
        self._event(t, pid, "heap", "http", "end", [rel])
