"""The provider's own cost ledger and its cost report.

A call is billed when it is *admitted* (after auth, quota and rate-limit checks,
before its latency elapses): its completion length is already decided, and, like
the real provider, the simulator charges for an answer whose client hangs up
early. Rejected calls (401, 404, 429, injected 5xx) and ``/v1/models`` are never
billed.

Each billed call is one :class:`LedgerEntry`, kept in memory and, when
``ledger_path`` is configured, appended as one JSON line::

    {"ts": 1717000000.123, "request_id": "req_...", "client_request_id": null,
     "project": "proj-primary", "model": "gpt-4o-mini", "prompt_tokens": 12,
     "completion_tokens": 40, "cost_usd": "0.0000258", "stream": false}

API keys are never written, only the project they map to. ``POST /admin/reset``
clears the memory ledger; the file is append-only and is left as it is.

The cost report (``GET /admin/cost-report``) sums entries per project, plus a
grand total, optionally only those with ``ts >= since``; ``cost_usd`` values are
exact decimal strings, so the report reconciles to the cent-fraction with any
other ledger that uses the same price table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from llmsim.pricing import usd


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    ts: float
    request_id: str
    client_request_id: str | None
    project: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    stream: bool

    def to_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["cost_usd"] = usd(self.cost_usd)
        return row


@dataclass
class _Totals:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)

    def add(self, entry: LedgerEntry) -> None:
        self.calls += 1
        self.prompt_tokens += entry.prompt_tokens
        self.completion_tokens += entry.completion_tokens
        self.cost_usd += entry.cost_usd

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "cost_usd": usd(self.cost_usd),
        }


class Ledger:
    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._entries: list[LedgerEntry] = []
        self._spent: dict[str, Decimal] = {}

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        return tuple(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, entry: LedgerEntry) -> None:
        self._entries.append(entry)
        self._spent[entry.project] = self._spent.get(entry.project, Decimal(0)) + entry.cost_usd
        if self._path is not None:
            # Opened per row so a killed simulator leaves every billed call on disk and
            # no handle outlives the app.
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry.to_json(), separators=(",", ":")) + "\n")

    def spent(self, project: str) -> Decimal:
        return self._spent.get(project, Decimal(0))

    def clear(self) -> None:
        self._entries.clear()
        self._spent.clear()

    def report(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        projects: Iterable[str] = (),
        only: str | None = None,
    ) -> dict[str, Any]:
        """Per-project totals of entries with ``since <= ts < until``; every name in
        ``projects`` appears, even with 0 calls; ``only`` keeps one project."""
        names = [only] if only is not None else projects
        per_project: dict[str, _Totals] = {name: _Totals() for name in names}
        total = _Totals()
        for entry in self._entries:
            if only is not None and entry.project != only:
                continue
            if since is not None and entry.ts < since:
                continue
            if until is not None and entry.ts >= until:
                continue
            per_project.setdefault(entry.project, _Totals()).add(entry)
            total.add(entry)
        return {
            "object": "cost_report",
            "currency": "usd",
            "since": since,
            "until": until,
            "projects": [
                {"project": name, **per_project[name].to_json()} for name in sorted(per_project)
            ],
            "total": total.to_json(),
        }
