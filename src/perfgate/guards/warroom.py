"""The war room: who is on call, where they talk, and notifications as things happen.

``WarRoomHook`` tails the run's store for events (the one event stream the dashboard
and the report read too; committed every second) and posts a message for each of:
the start (dashboard link, owner, roster, comms), every plateau start and verdict,
breach warnings and fired triggers, the soft cost alert, the cost cap and kill switch,
chaos start/end, data-safety hits, aborts and failures, reconciliation findings, and
the final verdict. Any hook that writes a ``chaos_start``/``chaos_end`` event is
announced with no further wiring; ``notify()`` sends anything else.

Delivery (``Notifier``) is a background queue: Slack-compatible incoming webhooks get
``{"text": ...}``, generic ones the JSON of the event. A failed post is retried with
exponential backoff (``backoff`` x 2^attempt); a message that still fails is a
``notification_failed`` event. Nothing here ever blocks or stops the run. Webhook URLs
are secrets (``${SLACK_WEBHOOK_URL}``): expanded at the start, never stored or logged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from perfgate.controller.hooks import BaseHook, RunContext
from perfgate.engine.timeline import Phase
from perfgate.guards.spec import WarRoomSpec
from perfgate.metrics.window import Window
from perfgate.report.summary import build_summary, decide_verdict
from perfgate.store.reader import RunReader, StoreError
from perfgate.telemetry.env import MissingEnv, expand

__all__ = ["Notification", "Notifier", "WarRoomHook", "Webhook"]

FORWARDED = frozenset({
    "phase_start", "criterion_verdict", "trigger_warning", "trigger_fired", "soft_cost_alert",
    "cost_cap", "kill_switch", "chaos_start", "chaos_end", "abort", "fail", "data_safety",
    "reconciliation"})
ICON = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}
DRAIN_S = 10.0


@dataclass(frozen=True)
class Notification:
    kind: str
    text: str
    severity: str = "info"
    t: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Webhook:
    name: str
    kind: str  # slack | json
    url: str = field(repr=False)  # a secret


Sleep = Callable[[float], Awaitable[None]]
Failure = Callable[[Webhook, Notification, str], None]


class Notifier:
    def __init__(self, webhooks: list[Webhook], *, context: Mapping[str, Any] | None = None,
                 retries: int = 4, backoff_s: float = 0.5, timeout_s: float = 5.0,
                 on_failure: Failure | None = None, sleep: Sleep = asyncio.sleep,
                 max_queue: int = 1000) -> None:
        self.webhooks = webhooks
        self.context = dict(context or {})
        self.retries, self.backoff_s, self.timeout_s = retries, backoff_s, timeout_s
        self._on_failure = on_failure
        self._sleep = sleep
        self._queue: asyncio.Queue[Notification] = asyncio.Queue(max_queue)
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.sent = 0
        self.failed = 0

    def start(self) -> None:
        if self.webhooks and self._task is None:
            self._session = aiohttp.ClientSession(trust_env=False)
            self._task = asyncio.create_task(self._run(), name="perfgate-notifier")

    def send(self, n: Notification) -> None:
        """Queue ``n``; never waits (a full queue drops it, as a failure)."""
        if not self.webhooks:
            return
        try:
            self._queue.put_nowait(n)
        except asyncio.QueueFull:
            for hook in self.webhooks:
                self._fail(hook, n, "notification queue full")

    def payload(self, hook: Webhook, n: Notification) -> dict[str, Any]:
        if hook.kind == "slack":
            return {"text": f"{ICON.get(n.severity, '')} {n.text}".strip()}
        return {"source": "perfgate", **self.context, "kind": n.kind, "severity": n.severity,
                "t": round(n.t, 3), "text": n.text, "data": n.data}

    async def _run(self) -> None:
        while True:
            n = await self._queue.get()
            try:
                for hook in self.webhooks:
                    await self._deliver(hook, n)
            finally:
                self._queue.task_done()

    async def _deliver(self, hook: Webhook, n: Notification) -> None:
        assert self._session is not None
        error = ""
        for attempt in range(self.retries + 1):
            try:
                async with self._session.post(
                        hook.url, json=self.payload(hook, n),
                        timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as resp:
                    if resp.status < 300:
                        self.sent += 1
                        return
                    error = f"HTTP {resp.status}"
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                # the URL (its path is the secret) never reaches an event
                error = f"{type(exc).__name__}: {exc}".replace(hook.url, "<webhook>")
                if len(urlsplit(hook.url).path) > 1:
                    error = error.replace(urlsplit(hook.url).path, "/<secret>")
            if attempt < self.retries:
                await self._sleep(self.backoff_s * 2 ** attempt)
        self._fail(hook, n, f"{error} after {self.retries + 1} attempts")

    def _fail(self, hook: Webhook, n: Notification, error: str) -> None:
        self.failed += 1
        if self._on_failure is not None:
            self._on_failure(hook, n, error)

    async def close(self, drain_s: float = DRAIN_S) -> None:
        """Deliver what is queued (at most ``drain_s``), then stop."""
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), drain_s)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None


class WarRoomHook(BaseHook):
    name = "war_room"

    def __init__(self, spec: WarRoomSpec, *, env: Mapping[str, str],
                 sleep: Sleep = asyncio.sleep) -> None:
        self.spec = spec
        self._env = env
        self._sleep = sleep
        self.notifier = Notifier([])
        self._reader: RunReader | None = None
        self._last_id = 0
        self._ctx: RunContext | None = None

    def notify(self, kind: str, text: str, *, severity: str = "info",
               data: dict[str, Any] | None = None) -> None:
        """Post a message to the war room now (chaos, captures, anything not an event)."""
        t = self._ctx.now() if self._ctx is not None else 0.0
        self.notifier.send(Notification(kind, self._prefix() + text, severity, t, data or {}))

    def _prefix(self) -> str:
        ctx = self._ctx
        return f"[{ctx.plan.name} {ctx.run_id}] " if ctx is not None else ""

    def _webhooks(self, ctx: RunContext) -> list[Webhook]:
        out = []
        for w in self.spec.webhooks:
            try:
                out.append(Webhook(w.name, w.kind, expand(w.url, self._env)))
            except MissingEnv as exc:
                ctx.writer.add_event(0.0, "notification_failed",
                                     f"webhook {w.name} disabled: {exc}", severity="info")
        return out

    def _on_failure(self, hook: Webhook, n: Notification, error: str) -> None:
        if self._ctx is not None:
            self._ctx.writer.add_event(self._ctx.now(), "notification_failed",
                                       f"{n.kind} not delivered to {hook.name}: {error}",
                                       severity="warning", data={"webhook": hook.name,
                                                                 "kind": n.kind})

    def start_text(self, ctx: RunContext) -> str:
        s, phases = self.spec, [p for p in ctx.timeline if p.id != "p0"]
        roster = ", ".join(f"{k.replace('_', '/')}: {v}"
                           for k, v in s.roles.model_dump().items() if v)
        parts = [f"run started against {ctx.plan.target.base_url}: {len(phases)} plateaus up "
                 f"to {max((p.rps for p in phases), default=0):g} RPS, "
                 f"{ctx.timeline[-1].end_s if ctx.timeline else 0:.0f} s."]
        if s.dashboard:
            parts.append(f"Dashboard: {s.dashboard.replace('{run_id}', ctx.run_id)}")
        parts.append(f"Owner (may abort): {s.owner}.")
        if roster:
            parts.append(f"On call: {roster}.")
        if s.comms:
            parts.append("Comms: " + ", ".join(f"{k} {v}" for k, v in s.comms.items()))
        return " ".join(parts)

    async def on_start(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self.notifier = Notifier(
            self._webhooks(ctx), context={"run_id": ctx.run_id, "plan": ctx.plan.name},
            retries=self.spec.retries, backoff_s=self.spec.backoff,
            on_failure=self._on_failure, sleep=self._sleep)
        self.notifier.start()
        self.notify("start", self.start_text(ctx))

    def _tail(self, ctx: RunContext) -> None:
        if self._reader is None:
            try:
                self._reader = RunReader(ctx.run_dir)
            except StoreError:
                return
        for e in self._reader.events(after=self._last_id):
            self._last_id = e.id
            if e.kind not in FORWARDED:
                continue
            if e.kind == "reconciliation" and e.severity == "info":
                continue
            self.notify(e.kind, f"{e.plateau + ': ' if e.plateau else ''}{e.message}",
                        severity=e.severity, data=e.data or {})

    async def on_tick(self, ctx: RunContext, now: float, phase: Phase | None,
                      windows: Sequence[Window]) -> None:
        self._tail(ctx)

    async def on_end(self, ctx: RunContext, status: str) -> None:
        ctx.writer.commit()  # the other hooks' last events, so the tail sees them
        self._tail(ctx)
        verdict, detail = await asyncio.to_thread(_final_verdict, ctx.run_dir, status)
        self.notify("final", f"final verdict {verdict}{': ' + detail if detail else ''}",
                    severity="info" if verdict == "PASS" else "critical",
                    data={"verdict": verdict, "status": status})
        await self.notifier.close()
        if self._reader is not None:
            self._reader.close()
        ctx.writer.set_meta("notifications", {"sent": self.notifier.sent,
                                              "failed": self.notifier.failed})


def _final_verdict(run_dir: Path, status: str) -> tuple[str, str]:
    """The verdict the report will give, from the store as it is now (this thread's own
    read-only connection: SQLite connections stay in their thread)."""
    try:
        with RunReader(run_dir) as reader:
            summary = build_summary(reader)
            meta = reader.meta()
    except (StoreError, OSError) as exc:
        return status.upper(), f"(report unavailable: {exc})"
    analysed = [p for p in summary["plateaus"] if not p["warmup"]]
    red = [p["id"] for p in analysed if (p.get("verdict") or {}).get("verdict") == "FAIL"
           and not p["verdict"].get("cut")]
    verdict = decide_verdict(status, any(not p["valid"] for p in analysed), bool(red))
    bits = []
    abort = meta.get("abort")
    if isinstance(abort, dict):
        bits.append(f"aborted by {abort.get('kind')}: {abort.get('message')}")
    elif meta.get("reason"):
        bits.append(str(meta["reason"]))
    if red:
        bits.append(f"red plateau(s) {', '.join(red)}")
    if "safe_rps" in meta:
        bits.append(f"safe RPS {meta['safe_rps'] if meta['safe_rps'] is not None else 'none'}")
    return verdict, "; ".join(bits)
