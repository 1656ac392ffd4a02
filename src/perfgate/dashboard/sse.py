"""Server-sent events: framing, and JSON that a browser's ``JSON.parse`` always accepts.

Non-finite floats become ``null`` (not measured) and anything else JSON lacks
(``Decimal`` money, paths) its ``str``, so a hook's extras can never break the stream.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

__all__ = ["comment", "event", "to_json"]


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def to_json(value: Any) -> str:
    return json.dumps(_clean(value), default=str, separators=(",", ":"), allow_nan=False)


def event(name: str, data: Any, event_id: str | None = None) -> bytes:
    """One SSE message; the JSON has no newline, so one ``data:`` line is enough."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {to_json(data)}\n\n".encode()


def comment(text: str) -> bytes:
    """A keep-alive line browsers ignore (it stops proxies from timing the stream out)."""
    return f": {text}\n\n".encode()
