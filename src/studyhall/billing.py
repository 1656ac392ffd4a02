"""The billing ledger: one JSON line per AI answer (provider call or fallback).

Row: ``request_id`` (the caller's ``X-Request-ID``), ``ts`` (ISO-8601 UTC), ``ts_unix``,
``endpoint`` (analyze|generate), ``path`` (provider|cache|extractive), ``key``
(primary|secondary|null), ``model``, ``prompt_tokens``, ``completion_tokens``,
``provider_cost_usd`` and ``billed_usd`` (Decimal strings). Written to
``billing_ledger_path`` (appended, flushed per row) or kept in memory when no path is set;
exported with ``GET /admin/billing?since=``.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from studyhall.ai.pricing import usd
from studyhall.metrics import Metrics


def parse_since(value: str | None) -> float | None:
    """``since`` as Unix seconds or an ISO-8601 timestamp (naive means UTC)."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"since={value!r}: expected Unix seconds or ISO-8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class BillingLedger:
    def __init__(self, path: Path | None, metrics: Metrics) -> None:
        self.path = path
        self._metrics = metrics
        self._file: IO[str] | None = None
        self._memory: list[str] = []
        self.provider_cost_total = Decimal(0)
        self.billed_total = Decimal(0)

    def open(self) -> None:
        if self.path is not None and self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def record(
        self,
        *,
        request_id: str,
        endpoint: str,
        path: str,
        key: str | None,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        provider_cost: Decimal,
        billed: Decimal,
    ) -> dict[str, Any]:
        now = time.time()
        row = {
            "request_id": request_id,
            "ts": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
            "ts_unix": round(now, 6),
            "endpoint": endpoint,
            "path": path,
            "key": key,
            "model": model,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "provider_cost_usd": usd(provider_cost),
            "billed_usd": usd(billed),
        }
        line = json.dumps(row, separators=(",", ":"))
        if self._file is not None:
            self._file.write(line + "\n")
            self._file.flush()
        else:
            self._memory.append(line)
        self.provider_cost_total += provider_cost
        self.billed_total += billed
        if provider_cost:
            self._metrics.provider_cost.inc(float(provider_cost))
        if billed:
            self._metrics.billed.inc(float(billed))
        return row

    def export(self, since: float | None = None) -> list[str]:
        """Rows (JSON lines, no newline) with ``ts_unix >= since``."""
        if self._file is not None:
            self._file.flush()
        if self.path is not None and self.path.exists():
            lines = self.path.read_text(encoding="utf-8").splitlines()
        else:
            lines = list(self._memory)
        if since is None:
            return [ln for ln in lines if ln]
        out = []
        for line in lines:
            if line and json.loads(line).get("ts_unix", 0) >= since:
                out.append(line)
        return out
