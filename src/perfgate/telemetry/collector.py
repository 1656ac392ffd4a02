"""The telemetry hook: reads every source once per interval while the run goes.

The interval is the plan's ``telemetry.interval`` x time scale, never below
``MIN_INTERVAL_S`` (a compressed run still sees a signal move). Scrapes run as a
background task, so a slow source delays nothing on the controller's tick; text is
parsed in a worker thread (it is CPU, and the generator's loop lag is a validity
rule). Each good value is written to the store (``samples``, source ``telemetry``) and
to the shared ``SignalStore`` the guards read. A failed read (HTTP error, timeout,
malformed text, a metric missing or NaN) opens a gap: one ``telemetry_gap`` event when
it starts, one (severity info) when the signal is back; never a made-up value.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp

from perfgate.controller.hooks import BaseHook, RunContext
from perfgate.engine.timeline import Phase
from perfgate.metrics.window import Window
from perfgate.telemetry.env import MissingEnv, expand_headers, host_problem, resolve_url
from perfgate.telemetry.promql import PromQLClient, derived_queries
from perfgate.telemetry.promtext import (
    DB_POOL_FREE,
    Extractor,
    Sample,
    TelemetryError,
    parse_exposition,
)
from perfgate.telemetry.series import SignalStore
from perfgate.telemetry.spec import SignalSpec, SourceSpec, TelemetrySpec, quantile_sample_name

__all__ = ["MIN_INTERVAL_S", "TelemetryHook", "sample_names"]

MIN_INTERVAL_S = 0.5
SOURCE = "telemetry"


def sample_names(name: str, spec: SignalSpec) -> list[str]:
    """Every sample name a signal produces (what a gap of the signal covers)."""
    if spec.type != "histogram":
        return [name]
    return [name, *(quantile_sample_name(name, q) for q in spec.quantiles), *spec.over]


@dataclass
class _Source:
    spec: SourceSpec
    url: str
    headers: dict[str, str]
    signals: dict[str, SignalSpec]
    extractor: Extractor
    problem: str | None = None
    queries: dict[str, dict[float | None, str]] = field(default_factory=dict)


class TelemetryHook(BaseHook):
    name = "telemetry"

    def __init__(self, spec: TelemetrySpec, store: SignalStore, *, time_scale: float,
                 base_url: str, allowed_hosts: Sequence[str], env: Mapping[str, str]) -> None:
        self.spec = spec
        self.store = store
        self.interval_s = max(spec.interval * time_scale, MIN_INTERVAL_S)
        self._base_url = base_url
        self._allowed = list(allowed_hosts)
        self._env = env
        self._sources: list[_Source] = []
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._ctx: RunContext | None = None
        self.scrapes = 0

    def _build_sources(self) -> list[_Source]:
        out = []
        for src in self.spec.sources:
            signals = {n: s for n, s in self.spec.signals.items()
                       if self.spec.source_of(n).name == src.name}
            problem = None
            try:
                url = resolve_url(src.url, self._base_url, self._env)
                headers = expand_headers(src.headers, self._env)
                problem = host_problem(url, self._allowed)
            except MissingEnv as exc:
                url, headers, problem = src.url, {}, str(exc)
            source = _Source(src, url, headers, signals, Extractor(signals, self.spec.cores),
                             problem)
            if src.kind == "promql":
                source.queries = {n: derived_queries(s, src.range, self.spec.cores)
                                  for n, s in signals.items()}
            out.append(source)
        return out

    async def on_start(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self._sources = self._build_sources()
        self._session = aiohttp.ClientSession(trust_env=False)
        for src in self._sources:
            if src.problem is not None:
                self._gap(src, list(src.signals), f"source {src.spec.name} unusable: "
                                                  f"{src.problem}")
        self._task = asyncio.create_task(self._loop(), name="perfgate-telemetry")

    async def _loop(self) -> None:
        assert self._ctx is not None
        ctx = self._ctx
        next_at = ctx.now()
        while True:
            await self.scrape_once()
            next_at += self.interval_s
            await asyncio.sleep(max(0.0, next_at - ctx.now()))

    async def scrape_once(self) -> None:
        for src in self._sources:
            if src.problem is None:
                try:
                    await self._read(src)
                except Exception as exc:  # a telemetry bug is a gap, not the end of the run
                    self._gap(src, list(src.signals), f"{type(exc).__name__}: {exc}")
        self.scrapes += 1

    async def _read(self, src: _Source) -> None:
        assert self._session is not None and self._ctx is not None
        if src.spec.kind == "promql":
            await self._read_promql(src)
            return
        timeout = aiohttp.ClientTimeout(total=src.spec.timeout)
        try:
            async with self._session.get(src.url, headers=src.headers, timeout=timeout) as r:
                text = await r.text()
                if r.status != 200:
                    raise TelemetryError(f"HTTP {r.status}")
            index = await asyncio.to_thread(parse_exposition, text,
                                            src.extractor.metric_names())
        except (aiohttp.ClientError, TimeoutError, TelemetryError, UnicodeDecodeError) as exc:
            self._gap(src, list(src.signals), f"{src.spec.name}: {type(exc).__name__}: {exc}")
            return
        t = self._ctx.now()
        samples, snapshots, missing = src.extractor.extract(t, index)
        for name, buckets in snapshots.items():
            self.store.add_buckets(t, name, buckets)
        if {"db_pool_size", "db_pool_in_use"} & set(missing):
            missing.setdefault(DB_POOL_FREE, "db pool size or in-use missing")
        self._record(src, t, samples, missing)

    async def _read_promql(self, src: _Source) -> None:
        assert self._session is not None and self._ctx is not None
        client = PromQLClient(src.url, self._session, src.headers, src.spec.timeout)
        samples: list[Sample] = []
        missing: dict[str, str] = {}
        for name, queries in src.queries.items():
            try:
                for q, promql in queries.items():
                    sample = name if q is None else quantile_sample_name(name, q)
                    rows = await client.query(promql)
                    samples += [Sample(sample, v, lb) for lb, v in rows]
                    if not rows:
                        raise TelemetryError(f"no data for {promql}")
            except TelemetryError as exc:
                missing[name] = str(exc)
        self._record(src, self._ctx.now(), samples, missing)

    def _record(self, src: _Source, t: float, samples: list[Sample],
                missing: dict[str, str]) -> None:
        assert self._ctx is not None
        writer = self._ctx.writer
        for s in samples:
            self.store.add(t, s.name, s.value, s.labels or None)
            writer.add_sample(t, SOURCE, s.name, s.value, s.labels or None)
        for name, reason in missing.items():
            self._gap(src, [name], reason)
        present = [n for n in (*src.signals, DB_POOL_FREE) if n not in missing]
        for name in present:
            spec = src.signals.get(name)
            for sample in sample_names(name, spec) if spec else [name]:
                gap = self.store.close_gap(sample, t)
                if gap is not None and sample == name:
                    writer.add_event(t, "telemetry_gap",
                                     f"telemetry {name} back after {t - gap.since:.1f} s",
                                     severity="info",
                                     data={"signal": name, "recovered": True,
                                           "gap_s": round(t - gap.since, 3)})

    def _gap(self, src: _Source, names: list[str], reason: str) -> None:
        assert self._ctx is not None
        t = self._ctx.now()
        for name in names:
            spec = src.signals.get(name)
            opened = [self.store.open_gap(s, t, reason)
                      for s in (sample_names(name, spec) if spec else [name])]
            if opened[0]:
                self._ctx.writer.add_event(
                    t, "telemetry_gap", f"telemetry {name} missing: {reason}",
                    severity="warning",
                    data={"signal": name, "source": src.spec.name, "reason": reason[:300]})

    async def on_tick(self, ctx: RunContext, now: float, phase: Phase | None,
                      windows: Sequence[Window]) -> None:
        latest = {n: self.store.latest(n) for n in self.store.names()}
        ctx.extras["telemetry"] = {"values": {k: v for k, v in latest.items() if v is not None},
                                   "gaps": sorted(self.store.gaps())}

    async def on_end(self, ctx: RunContext, status: str) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()
        ctx.writer.set_meta("telemetry", {
            "interval_s": self.interval_s, "scrapes": self.scrapes,
            "gap_seconds": {k: round(v, 3) for k, v in self.store.gap_seconds.items()},
            "open_gaps": sorted(self.store.gaps())})
