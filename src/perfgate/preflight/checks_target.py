"""Preflight items that talk to the target: plan and target (1) and data safety (6).

Smoke requests carry ``X-Perf-Run: <run tag>`` and ``X-Perf-Plateau: preflight`` so
the target's own logs can tell them from real traffic; an AI endpoint's smoke
request is one real (small) completion.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp

from perfgate.engine.client import AiohttpTransport, TransportError
from perfgate.engine.mix import build_endpoints
from perfgate.engine.params import RequestFactory
from perfgate.plan.models import Plan
from perfgate.preflight.pii import scan
from perfgate.preflight.planview import section
from perfgate.preflight.report import Check
from perfgate.preflight.spec import PreflightSpec
from perfgate.telemetry.env import MissingEnv, expand_headers, host_problem, resolve_url

__all__ = ["check_data_safety", "check_plan_target"]


def _guard_problems(plan: Plan, env: Mapping[str, str]) -> list[str]:
    try:
        from perfgate.guards.build import check_plan
    except ImportError:  # guards not installed in this build
        return []
    try:
        return check_plan(plan, env)
    except AttributeError:  # the plan model predates the guard sections
        return []


async def _reachable(base_url: str, timeout_s: float = 3.0) -> str | None:
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, port), timeout_s)
    except (OSError, TimeoutError) as exc:
        return f"{parts.hostname}:{port} does not accept connections ({type(exc).__name__})"
    writer.close()
    return None


async def _smoke(check: Check, plan: Plan, headers: Mapping[str, str], timeout_s: float
                 ) -> None:
    refs = build_endpoints(plan)
    factory = RequestFactory(plan, rng=random.Random(f"{plan.schedule.seed}/preflight"),
                             static_headers=headers, endpoints=refs)
    transport = AiohttpTransport(8)
    rows = []
    try:
        for ref in refs:
            req = factory.build(ref)
            req.headers.update({"X-Perf-Run": plan.run_tag, "X-Perf-Plateau": "preflight"})
            t0 = time.monotonic()
            try:
                resp = await transport.request(req, min(ref.timeout_s, timeout_s))
                status: int | str = resp.status
            except TransportError as exc:
                status = f"{type(exc).__name__}: {exc}"
            ms = round((time.monotonic() - t0) * 1000, 1)
            ok = isinstance(status, int) and status in ref.spec.expect
            rows.append({"endpoint": ref.name, "status": status, "ms": ms, "ok": ok})
            check.add("green" if ok else "red",
                      f"{ref.spec.method} {ref.name}: {status} in {ms:g} ms"
                      + ("" if ok else f" (expected {ref.spec.expect})"))
    finally:
        await transport.close()
    check.data["smoke"] = rows


async def _telemetry(check: Check, plan: Plan, env: Mapping[str, str]) -> None:
    from perfgate.telemetry.collector import sample_names
    from perfgate.telemetry.promtext import Extractor, TelemetryError, parse_exposition
    from perfgate.telemetry.spec import TelemetrySpec

    spec = section(plan, "telemetry", TelemetrySpec)
    needed: set[str] = set()
    for c in getattr(plan, "criteria", []) or []:
        if getattr(c, "signal", None):
            needed.add(c.signal)
    if spec is None:
        check.add("red" if needed else "skip",
                  f"criteria need telemetry {sorted(needed)} but the plan has none" if needed
                  else "no telemetry section")
        return
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as session:
        for src in spec.sources:
            signals = {n: s for n, s in spec.signals.items() if spec.source_of(n).name == src.name}
            if src.kind != "prometheus":
                check.add("warn", f"source {src.name} ({src.kind}): checked when the run starts")
                continue
            try:
                url = resolve_url(src.url, plan.target.base_url, env)
                problem = host_problem(url, plan.target.allowed_hosts)
                if problem:
                    check.add("red", f"source {src.name}: {problem}")
                    continue
                async with session.get(url, headers=expand_headers(src.headers, env)) as resp:
                    text = await resp.text()
                extractor = Extractor(signals, spec.cores)
                _, _, missing = extractor.extract(0.0, parse_exposition(
                    text, extractor.metric_names()))
            except (MissingEnv, TelemetryError, aiohttp.ClientError, OSError,
                    TimeoutError) as exc:
                check.add("red", f"source {src.name}: cannot read ({exc})")
                continue
            for name, why in sorted(missing.items()):
                used = needed & set(sample_names(name, signals[name]))
                check.add("red" if used else "warn", f"signal {name}: {why}"
                          + (f" (criteria need {sorted(used)})" if used else ""))
            present = sorted(set(signals) - set(missing))
            if present:
                check.add("green", f"source {src.name}: {len(present)} signal(s) present: "
                          f"{', '.join(present)}")


async def check_plan_target(check: Check, plan: Plan, headers: Mapping[str, str],
                            env: Mapping[str, str], pre: PreflightSpec) -> None:
    problems = _guard_problems(plan, env)
    check.add("red" if problems else "green",
              "; ".join(problems) if problems else f"plan {plan.name} valid")
    unreachable = await _reachable(plan.target.base_url)
    if unreachable:
        check.add("red", f"target {plan.target.base_url}: {unreachable}")
        return
    check.add("green", f"target {plan.target.base_url} reachable")
    await _smoke(check, plan, headers, pre.smoke_timeout)
    await _telemetry(check, plan, env)


def payload_samples(plan: Plan, n: int) -> dict[str, list[str]]:
    """``n`` generated requests per endpoint as text (URL decoded + body)."""
    refs = build_endpoints(plan)
    factory = RequestFactory(plan, rng=random.Random(f"{plan.schedule.seed}/pii"),
                             endpoints=refs)
    out: dict[str, list[str]] = {}
    for ref in refs:
        texts = out.setdefault(ref.name, [])
        for _ in range(n):
            req = factory.build(ref)
            body = req.body.decode("utf-8", "replace") if req.body else ""
            texts.append(unquote(req.url.replace("+", " ")) + "\n" + body)
    return out


async def check_data_safety(check: Check, plan: Plan, env: Mapping[str, str],
                            pre: PreflightSpec) -> None:
    samples = payload_samples(plan, pre.pii_samples)
    hits: dict[str, list[dict[str, str]]] = {}
    for endpoint, texts in samples.items():
        for text in texts:
            for h in scan(text):
                hits.setdefault(endpoint, []).append({"kind": h.kind, "value": h.value})
    total = sum(len(v) for v in samples.values())
    check.data["pii"] = {"payloads": total, "endpoints": len(samples),
                         "hits": {k: v[:5] for k, v in hits.items()}}
    if hits:
        for endpoint, found in hits.items():
            kinds = sorted({h["kind"] for h in found})
            check.add("red", f"PII in {endpoint} payloads: {len(found)} hit(s) ({', '.join(kinds)}"
                      f"), e.g. {found[0]['value']!r}")
    else:
        check.add("green", f"{total} generated payloads from {len(samples)} endpoints scanned: "
                  "no e-mail, phone, SSN, card or public IP")
    await _flags(check, plan, env, pre)
    sink_on = False
    triggers = getattr(plan, "triggers", None)
    sink = getattr(triggers, "outbound_sink", None)
    if sink is not None and getattr(sink, "enabled", False):
        sink_on = True
        check.add("green", "perfgate's outbound sink runs with the run (any hit aborts it)")
    else:
        check.add("warn", "no outbound sink (triggers.outbound_sink): outbound calls would go "
                  "unnoticed")
    who = pre.confirmed.get("outbound_urls")
    if who:
        check.add("green", f"target outbound URLs point at the sink: confirmed by {who}")
    elif sink_on:
        check.add("warn", "the target does not expose its outbound URLs: confirm they point at "
                  "the sink in preflight.confirmed.outbound_urls")


async def _flags(check: Check, plan: Plan, env: Mapping[str, str], pre: PreflightSpec) -> None:
    spec = pre.flags
    if spec is None:
        check.add("warn", "no feature-flag check (preflight.flags): outbound e-mail, "
                  "notifications and provider webhooks not confirmed off")
        return
    try:
        url = resolve_url(spec.url, plan.target.base_url, env)
        problem = host_problem(url, plan.target.allowed_hosts)
        if problem:
            check.add("red", f"flags: {problem}")
            return
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as session, \
                session.get(url, headers=expand_headers(spec.headers, env)) as resp:
            data: Any = json.loads(await resp.text()) if resp.status == 200 else None
    except (MissingEnv, aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
        check.add("red", f"flags {spec.url}: cannot read ({exc})")
        return
    if not isinstance(data, dict):
        check.add("red", f"flags {spec.url}: no JSON object")
        return
    check.data["flags"] = data
    on = [f for f in spec.off if data.get(f) is not False]
    if on:
        check.add("red", f"flags not off: {', '.join(f'{f}={data.get(f)!r}' for f in on)}")
    else:
        check.add("green", "flags off: " + ", ".join(spec.off))
