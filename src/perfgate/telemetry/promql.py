"""PromQL against a Prometheus server's HTTP API (the alternative telemetry source).

``GET /api/v1/query?query=..&time=..`` (instant) and ``GET /api/v1/query_range?query=..
&start=..&end=..&step=..`` answer ``{"status": "success", "data": {"resultType":
"vector"|"matrix"|"scalar", "result": [...]}}``. Each result series becomes
``(labels, value)`` (instant) or ``(labels, [(unix_t, value)])`` (range). Anything else
(an HTTP error, ``"status": "error"``, unparseable values) raises ``TelemetryError``,
which the collector turns into a gap.

Queries derived from a signal when the plan gives none (``R`` = the source's ``range``)::

    gauge      sum by (by) (metric{labels})
    counter    sum by (by) (rate(metric{labels}[R]))
    cpu        100 * sum(rate(metric{labels}[R])) / cores
    histogram  histogram_quantile(q, sum by (le) (rate(metric_bucket{labels}[R])))
"""

from __future__ import annotations

import math
from typing import Any

import aiohttp

from perfgate.telemetry.promtext import TelemetryError
from perfgate.telemetry.spec import SignalSpec

__all__ = ["PromQLClient", "derived_queries", "parse_result"]

Instant = list[tuple[dict[str, str], float]]
Range = list[tuple[dict[str, str], list[tuple[float, float]]]]


def _selector(spec: SignalSpec, suffix: str = "") -> str:
    assert spec.metric is not None
    matchers = ",".join(f'{k}="{v}"' for k, v in sorted(spec.labels.items()))
    return f"{spec.metric}{suffix}{{{matchers}}}" if matchers else f"{spec.metric}{suffix}"


def _by(spec: SignalSpec) -> str:
    return f"sum by ({', '.join(spec.by)}) " if spec.by else "sum "


def derived_queries(spec: SignalSpec, range_s: float, cores: float) -> dict[float | None, str]:
    """``{None: query}`` or, for a histogram, ``{q: query}`` per quantile."""
    if spec.query is not None:
        return {None: spec.query}
    r = f"[{max(1, round(range_s))}s]"
    if spec.type == "gauge":
        return {None: f"{_by(spec)}({_selector(spec)})"}
    if spec.type == "counter":
        return {None: f"{_by(spec)}(rate({_selector(spec)}{r}))"}
    if spec.type == "cpu":
        return {None: f"100 * sum(rate({_selector(spec)}{r})) / {cores:g}"}
    bucket = _selector(spec, "_bucket")
    return {q: f"histogram_quantile({q:g}, sum by (le) (rate({bucket}{r})))"
            for q in spec.quantiles}


def _value(raw: Any) -> float:
    try:
        return float(raw[1])
    except (TypeError, ValueError, IndexError) as exc:
        raise TelemetryError(f"bad sample value {raw!r}") from exc


def parse_result(body: Any) -> tuple[str, Any]:
    """(resultType, parsed) from an API answer; raises TelemetryError."""
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        raise TelemetryError(f"prometheus query failed: {error or body!r}"[:300])
    data = body.get("data")
    if not isinstance(data, dict) or "result" not in data:
        raise TelemetryError("prometheus answer has no data.result")
    kind, result = data.get("resultType"), data["result"]
    if kind == "scalar":
        return kind, [({}, _value(result))]
    if kind == "vector":
        return kind, [(dict(r.get("metric", {})), _value(r.get("value"))) for r in result]
    if kind == "matrix":
        return kind, [(dict(r.get("metric", {})),
                       [(float(v[0]), _value(v)) for v in r.get("values", [])])
                      for r in result]
    raise TelemetryError(f"unsupported resultType {kind!r}")


class PromQLClient:
    def __init__(self, base_url: str, session: aiohttp.ClientSession,
                 headers: dict[str, str] | None = None, timeout_s: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._headers = headers or {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        try:
            async with self._session.get(f"{self.base_url}{path}", params=params,
                                         headers=self._headers, timeout=self._timeout) as resp:
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise TelemetryError(f"{path}: {type(exc).__name__}: {exc}") from exc
        return body

    async def query(self, promql: str, at: float | None = None) -> Instant:
        params = {"query": promql}
        if at is not None:
            params["time"] = f"{at:.3f}"
        kind, parsed = parse_result(await self._get("/api/v1/query", params))
        if kind == "matrix":
            raise TelemetryError("instant query answered a matrix (use a range query)")
        return [(lb, v) for lb, v in parsed if not math.isnan(v)]

    async def query_range(self, promql: str, start: float, end: float, step: float) -> Range:
        params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}",
                  "step": f"{max(step, 0.001):g}"}
        kind, parsed = parse_result(await self._get("/api/v1/query_range", params))
        if kind != "matrix":
            raise TelemetryError(f"range query answered {kind!r}, not a matrix")
        return [(lb, [(t, v) for t, v in points if not math.isnan(v)])
                for lb, points in parsed]
