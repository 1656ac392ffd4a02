"""Small synchronous JSON-over-HTTP calls for faults (Toxiproxy's API, drill toggles).

Synchronous (urllib) because faults are also reverted where no event loop runs
(``perfgate chaos cleanup``, ``atexit``). Only loopback or the plan's allowed hosts.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

from perfgate.chaos.fault import ChaosError
from perfgate.telemetry.env import host_problem

__all__ = ["call_json"]


def call_json(method: str, url: str, *, body: object | None = None,
              headers: Mapping[str, str] | None = None, allowed: Iterable[str] = (),
              timeout_s: float = 10.0) -> tuple[int, Any]:
    """(status, parsed JSON or text or None); raises ChaosError when unreachable or the
    host is not allowed. HTTP error statuses are returned, not raised."""
    problem = host_problem(url, allowed)
    if problem:
        raise ChaosError(f"{url}: {problem}")
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=timeout_s) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise ChaosError(f"{method} {url}: {getattr(exc, 'reason', exc)}") from exc
    if not raw:
        return status, None
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")
