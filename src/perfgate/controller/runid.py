"""Run ids: ``<run_tag>-<UTC yyyymmdd-HHMMSS>-<4 hex>``, sortable and unique enough."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def make_run_id(run_tag: str, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return f"{run_tag}-{moment.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
