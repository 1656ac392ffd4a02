"""The cost hook: the gate on the transport, the kill switch, live spend, reconciliation.

Live (every tick): ledger rows to the store (``ledger``), the ``cost`` samples
(``spend_usd``, ``reserved_usd``, ``billed_usd``, ``ai_calls``, ``usd_per_1k_requests``,
``usd_per_ai_call``), ``ctx.extras["cost"]`` for the console and dashboard, the soft
alert once spend reaches it. The kill switch fires on the first refused send, in every
guards mode: AI sends stop (the budget refuses them all), the target's kill-switch hook
is called if the plan has one, and the run aborts (kind ``cost_cap``). At the end: the
three-ledger reconciliation.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import aiohttp

from perfgate.controller.abort import AbortReason
from perfgate.controller.hooks import BaseHook, RunContext
from perfgate.engine.client import PreparedRequest, Transport
from perfgate.engine.tags import PLATEAU_HEADER, REQUEST_ID_HEADER
from perfgate.engine.timeline import Phase
from perfgate.guards.budget import Budget, usd
from perfgate.guards.gate import AiEndpoint, AiMatcher, CostGate, wrap_cost_gate
from perfgate.guards.reconcile import reconcile
from perfgate.metrics.window import Window
from perfgate.telemetry.env import MissingEnv, expand_headers, resolve_url

__all__ = ["CostHook"]

SOURCE = "cost"


class CostHook(BaseHook):
    name = "cost"

    def __init__(self, budget: Budget, matcher: AiMatcher, *, env: Mapping[str, str]) -> None:
        self.budget = budget
        self.matcher = matcher
        self._env = env
        self._rows: list[dict[str, Any]] = []
        self._ctx: RunContext | None = None
        self._kill_task: asyncio.Task[None] | None = None
        self._history: deque[tuple[float, Decimal]] = deque()
        self._soft_alerted = False
        self.requests = 0
        self.last_provider_ok: float | None = None  # run time of the last provider answer
        self.start_epoch = time.time()
        self.gate: CostGate | None = None

    def wrap_transport(self, transport: Transport) -> Transport:
        self.gate = wrap_cost_gate(transport, self.budget, self.matcher,
                                   on_row=self._on_row, on_refused=self._on_refused)
        return self.gate

    async def on_start(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self.start_epoch = time.time()

    def _on_row(self, row: dict[str, Any]) -> None:
        row["t"] = self._ctx.now() if self._ctx is not None else 0.0
        if row.get("path") == "provider":
            self.last_provider_ok = row["t"]
        self._rows.append(row)

    def _on_refused(self, req: PreparedRequest, ep: AiEndpoint, worst: Decimal) -> None:
        ctx = self._ctx
        self._on_row({"request_id": req.headers.get(REQUEST_ID_HEADER, ""),
                      "plateau": req.headers.get(PLATEAU_HEADER, ""), "endpoint": ep.name,
                      "reserved_usd": "0", "finding": "refused",
                      "note": f"not sent: worst case ${usd(worst)} would pass the cap"})
        if self.budget.killed or ctx is None:
            return
        b = self.budget
        b.killed = True  # from here every AI send is refused: AI traffic has stopped
        t, plateau = ctx.now(), req.headers.get(PLATEAU_HEADER)
        evidence = {"cap_usd": usd(b.cap), "spent_usd": usd(b.spent),
                    "reserved_usd": usd(b.reserved), "next_worst_case_usd": usd(worst),
                    "endpoint": ep.name, "request_id": req.headers.get(REQUEST_ID_HEADER)}
        message = (f"hard cap ${usd(b.cap)}: spent ${usd(b.spent)} + in flight "
                   f"${usd(b.reserved)} + next call ${usd(worst)} would pass it")
        ctx.writer.add_event(t, "cost_cap", message + "; send refused", severity="critical",
                             plateau=plateau, data=evidence)
        ctx.writer.add_event(t, "kill_switch", "kill switch: AI traffic stopped",
                             severity="critical", plateau=plateau)
        self._kill_task = asyncio.get_running_loop().create_task(self._call_kill_switch(ctx))
        ctx.abort(AbortReason("cost_cap", message, "perfgate", t, plateau, evidence))

    async def _call_kill_switch(self, ctx: RunContext) -> None:
        hook = self.budget.spec.kill_switch
        if hook is None:
            return
        try:
            url = resolve_url(hook.url, ctx.plan.target.base_url, self._env)
            headers = expand_headers(hook.headers, self._env)
            async with aiohttp.ClientSession(trust_env=False) as session, session.request(
                    hook.method, url, headers=headers, json=hook.body,
                    timeout=aiohttp.ClientTimeout(total=5)) as resp:
                ok, detail = resp.status < 300, f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError, MissingEnv) as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        ctx.writer.add_event(ctx.now(), "kill_switch",
                             f"target kill-switch hook {'called' if ok else 'FAILED'}: {detail}",
                             severity="info" if ok else "critical", data={"ok": ok})

    def _flush(self, ctx: RunContext) -> None:
        if self._rows:
            ctx.writer.add_ledger_rows(self._rows)
            self._rows = []

    def projection(self, now: float, window_s: float, total_s: float) -> Decimal | None:
        """Cost run-rate: spent + (spend over the window / window) x remaining run time."""
        hist = self._history
        if len(hist) < 2:
            return None
        past = next((p for p in reversed(hist) if p[0] <= now - window_s), hist[0])
        span = hist[-1][0] - past[0]
        if span < 1.0:
            return None
        rate = (hist[-1][1] - past[1]) / Decimal(str(span))
        return self.budget.spent + rate * Decimal(str(max(0.0, total_s - now)))

    def live(self) -> dict[str, Any]:
        b = self.budget
        calls = sum(p.ai_calls for p in b.plateaus.values())
        return {"spend_usd": float(b.spent), "reserved_usd": float(b.reserved),
                "billed_usd": float(b.billed), "ai_calls": calls,
                "usd_per_1k_requests": float(b.spent / self.requests * 1000)
                if self.requests else None,
                "usd_per_ai_call": float(b.realized / calls) if calls else None,
                "cap_usd": float(b.cap), "refused": b.refused, "killed": b.killed,
                "findings": dict(b.findings)}

    async def on_tick(self, ctx: RunContext, now: float, phase: Phase | None,
                      windows: Sequence[Window]) -> None:
        self.requests += sum(w.cell.completed for w in windows)
        self._flush(ctx)
        live = self.live()
        for name in ("spend_usd", "reserved_usd", "billed_usd", "ai_calls",
                     "usd_per_1k_requests", "usd_per_ai_call"):
            if live[name] is not None:
                ctx.writer.add_sample(now, SOURCE, name, float(live[name]))
        self._history.append((now, self.budget.spent))
        while len(self._history) > 2 and self._history[1][0] < now - 3600:
            self._history.popleft()
        soft = self.budget.spec.soft_alert_usd
        if soft is not None and not self._soft_alerted and self.budget.spent >= soft:
            self._soft_alerted = True
            ctx.writer.add_event(now, "soft_cost_alert",
                                 f"spend ${usd(self.budget.spent)} reached the soft alert "
                                 f"${usd(soft)} (hard cap ${usd(self.budget.cap)})",
                                 severity="warning", plateau=phase.id if phase else None,
                                 data={"spent_usd": usd(self.budget.spent)})
        ctx.extras["cost"] = live

    async def on_end(self, ctx: RunContext, status: str) -> None:
        if self._kill_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._kill_task
        for row in self.budget.close_open("no answer by the end of the run"):
            self._on_row(row)
        self._flush(ctx)
        ctx.writer.set_meta("cost", self.budget.totals())
        ctx.writer.set_meta("cost_by_plateau",
                            {k: v.to_dict() for k, v in sorted(self.budget.plateaus.items())})
        spec = self.budget.spec.reconcile
        if spec is None:
            return
        result = await reconcile(self.budget, spec, base_url=ctx.plan.target.base_url,
                                 env=self._env, since_epoch=self.start_epoch - 1,
                                 request_prefix=f"{ctx.run_id}-")
        ctx.writer.set_meta("reconciliation", result)
        findings = result["findings"]
        ctx.writer.add_event(
            ctx.now(), "reconciliation",
            "ledgers reconciled: " + ("; ".join(findings) if findings else
                                      "perfgate, target and provider agree within "
                                      f"{spec.tolerance:.0%}"),
            severity="warning" if findings else "info", data=result)
