"""Preflight items read mostly from the plan: AI share (3), budget (4), isolation (7),
war room (8), capture tools (9), chaos readiness.

Budget projection over the whole schedule (durations x the run's time scale), with
``p_e`` an AI endpoint's share of arrivals and prices per 1M tokens::

    calls_e    = sum over phases(rps x duration) x p_e
    worst      = sum_e calls_e x (prompt_e x input + max_tokens_e x output) / 1e6
    expected   = the same with completions at half of max_tokens (the plan gives no
                 average; the provider's usage replaces this once the run goes)

Red: no cap or no soft alert, or expected spend over the cap; a worst case over the
cap is a warning (the kill switch would stop the run there).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Mapping
from decimal import Decimal

import aiohttp

from perfgate.chaos.iptables import iptables_problem
from perfgate.chaos.proxy import listen_free
from perfgate.chaos.spec import ChaosSpec, host_port
from perfgate.engine.mix import build_endpoints
from perfgate.plan.models import Plan
from perfgate.plan.resolve import TargetNotAllowed, check_target_allowed
from perfgate.preflight.planview import section
from perfgate.preflight.report import Check, Status
from perfgate.preflight.spec import PreflightSpec
from perfgate.telemetry.env import MissingEnv, expand, host_problem

__all__ = ["check_ai_share", "check_budget", "check_chaos", "check_isolation", "check_tools",
           "check_war_room"]

ROLES = ("sre", "backend", "data_analytics", "llm_platform", "finance")


def ai_share(plan: Plan) -> float:
    return sum(r.probability for r in build_endpoints(plan) if r.spec.ai is not None)


def check_ai_share(check: Check, plan: Plan, pre: PreflightSpec) -> None:
    from perfgate.guards.spec import BudgetSpec

    share = ai_share(plan)
    budget = section(plan, "budget", BudgetSpec)
    limit = budget.max_ai_share if budget else 0.25
    confirmed = (budget is not None and budget.confirmed_revised_cap) or \
        "revised_cap" in pre.confirmed
    if share > limit + 1e-9 and not confirmed:
        check.add("red", f"AI share {share:.1%} > {limit:.0%} and no revised cap confirmed "
                  "(budget.confirmed_revised_cap)")
    else:
        check.add("green", f"AI share {share:.1%} (limit {limit:.0%}"
                  + (", revised cap confirmed)" if share > limit else ")"))
    check.data["ai_share"] = round(share, 4)


def check_budget(check: Check, plan: Plan, time_scale: float) -> None:
    from perfgate.guards.spec import BudgetSpec

    budget = section(plan, "budget", BudgetSpec)
    if ai_share(plan) == 0 and budget is None:
        check.add("skip", "no AI endpoints and no budget")
        return
    if budget is None:
        check.add("red", "AI endpoints but no budget section: a hard cap is required")
        return
    price = budget.prices[budget.model]
    stages = ([plan.schedule.warmup] if plan.schedule.warmup else []) + plan.schedule.plateaus
    arrivals = sum(Decimal(str(s.rps)) * Decimal(str(s.duration * time_scale)) for s in stages)
    worst = expected = Decimal(0)
    for ref in build_endpoints(plan):
        if ref.spec.ai is None:
            continue
        calls = arrivals * Decimal(str(ref.probability))
        ai = ref.spec.ai
        inp = ai.prompt_tokens * price.input_per_1m
        worst += calls * (inp + ai.max_tokens * price.output_per_1m) / 10**6
        expected += calls * (inp + Decimal(ai.max_tokens) / 2 * price.output_per_1m) / 10**6
    cap, soft = budget.hard_cap_usd, budget.soft_alert_usd
    check.data.update(expected_usd=f"{expected:.2f}", worst_case_usd=f"{worst:.2f}",
                      hard_cap_usd=str(cap), soft_alert_usd=str(soft) if soft else None,
                      time_scale=time_scale)
    check.add("green", f"hard cap ${cap}" + (f", soft alert ${soft}" if soft else ""))
    if soft is None:
        check.add("red", "no soft alert (budget.soft_alert_usd)")
    line = (f"schedule spend at {budget.model}: expected ${expected:.2f}, worst case "
            f"${worst:.2f} ({arrivals:.0f} arrivals x {ai_share(plan):.0%} AI)")
    if expected > cap:
        check.add("red", line + f": expected spend is over the ${cap} cap")
    elif worst > cap:
        check.add("warn", line + ": the worst case passes the cap; the kill switch stops "
                  "the run there")
    else:
        check.add("green", line + f", {float(worst / cap):.1%} of the cap at worst")


def check_isolation(check: Check, plan: Plan) -> None:
    try:
        host = check_target_allowed(plan)
    except TargetNotAllowed as exc:
        check.add("red", str(exc))
        return
    check.add("green", f"target host {host} is allowed (target.allowed_hosts)")
    loopback = host in ("127.0.0.1", "::1", "localhost")
    if plan.target.isolated:
        check.add("green", "target.isolated: true (operator's statement: isolated from public "
                  "UX and partner systems)")
    elif loopback:
        check.add("green", "loopback target: not reachable by public UX or partners")
    else:
        check.add("red", "target.isolated is not true: the memo requires a production-"
                  "equivalent environment isolated from public UX and partners")


async def check_war_room(check: Check, plan: Plan, env: Mapping[str, str]) -> None:
    from perfgate.guards.spec import WarRoomSpec
    from perfgate.guards.warroom import Notification, Notifier, Webhook

    wr = section(plan, "war_room", WarRoomSpec)
    if wr is None:
        check.add("skip", "no war_room section")
        return
    check.add("green" if wr.owner.strip() else "red", f"owner (perf lead): {wr.owner or '-'}")
    roles = wr.roles.model_dump()
    missing = [r for r in ROLES if not roles.get(r)]
    check.add("red" if missing else "green",
              f"roles missing: {', '.join(missing)}" if missing else
              "on call: " + ", ".join(f"{r} {roles[r]}" for r in ROLES))
    check.add("green" if wr.comms else "red",
              "comms: " + (", ".join(wr.comms) if wr.comms else "none (bridge, call)"))
    if not wr.dashboard:
        check.add("red", "no dashboard link")
    else:
        link = wr.dashboard.replace("{run_id}", "preflight")
        problem = host_problem(link, plan.target.allowed_hosts)
        if problem:
            check.add("warn", f"dashboard {wr.dashboard}: not probed ({problem})")
        else:
            try:
                timeout = aiohttp.ClientTimeout(total=5)
                async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as s, \
                        s.get(link) as resp:
                    check.add("green" if resp.status < 400 else "red",
                              f"dashboard {wr.dashboard} answers {resp.status}")
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                check.add("warn", f"dashboard {wr.dashboard} not up yet ({type(exc).__name__}); "
                          "perfgate's own dashboard starts with the run")
    if not wr.webhooks:
        check.add("red", "no notification webhook")
        return
    hooks = []
    for w in wr.webhooks:
        try:
            url = expand(w.url, env)
        except MissingEnv as exc:
            check.add("red", f"webhook {w.name}: {exc}")
            continue
        problem = host_problem(url, plan.target.allowed_hosts)
        if problem:
            check.add("warn", f"webhook {w.name}: test message not sent ({problem})")
            continue
        hooks.append(Webhook(w.name, w.kind, url))
    for hook in hooks:
        notifier = Notifier([hook], context={"plan": plan.name, "run_id": "preflight"},
                            retries=1, backoff_s=0.2)
        notifier.start()
        notifier.send(Notification("preflight", f"[{plan.name}] perfgate preflight: test "
                                   "message, please ignore"))
        await notifier.close(drain_s=8.0)
        ok = notifier.sent > 0
        check.add("green" if ok else "red", f"webhook {hook.name}: test message "
                  + ("delivered" if ok else "NOT delivered"))


async def check_tools(check: Check, plan: Plan, pre: PreflightSpec, env: Mapping[str, str]
                      ) -> None:
    """The tools the plan's captures need (py-spy, pg_stat_statements, command argv)."""
    from perfgate.capture.spec import CaptureSpec

    captures = [c for c in getattr(plan, "captures", []) or [] if isinstance(c, CaptureSpec)]
    tools = list(pre.tools) + [c.argv[0] for c in captures if c.kind == "command" and c.argv]
    if any(c.kind == "pyspy" for c in captures):
        tools.append("py-spy")
    dsns = [(c.name, c.dsn, c.optional) for c in captures
            if c.kind == "pg_stat_statements" and c.dsn]
    if pre.pg_stat_statements:
        dsns.append(("preflight", pre.pg_stat_statements, False))
    if not tools and not dsns:
        check.add("skip", "no captures need tools")
        return
    from perfgate.capture.runners import executable

    for tool in dict.fromkeys(tools):
        path = shutil.which(executable(tool))  # PATH, or beside this Python (a venv's bin/)
        check.add("green" if path else "red",
                  f"{tool}: {path or 'not found on PATH nor beside this Python'}")
    for name, dsn, optional in dsns:
        try:
            url = expand(dsn, env)
        except MissingEnv as exc:
            check.add("warn" if optional else "red", f"pg_stat_statements ({name}): {exc}"
                      + (" (optional capture: skipped)" if optional else ""))
            continue
        check.add(*await _pg_stat_statements(name, url))


async def _pg_stat_statements(name: str, dsn: str) -> tuple[Status, str]:
    try:
        import asyncpg  # type: ignore[import-untyped]

        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            row = await conn.fetchval(
                "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'")
        finally:
            await conn.close()
    except Exception as exc:  # any driver error is the evidence
        return "red", f"pg_stat_statements ({name}): cannot check ({type(exc).__name__})"
    return ("green" if row else "red"), f"pg_stat_statements ({name}): " + (
        "installed" if row else "not installed (CREATE EXTENSION pg_stat_statements)")


async def check_chaos(check: Check, plan: Plan, env: Mapping[str, str]) -> None:
    spec = section(plan, "chaos", ChaosSpec)
    if spec is None or not spec.faults:
        check.add("skip", "no chaos faults planned")
        return
    ids = {f"p{i}" for i in range(1, len(plan.schedule.plateaus) + 1)}
    if plan.schedule.warmup is not None:
        ids.add("p0")
    allowed = plan.target.allowed_hosts
    for f in spec.faults:
        where = f"{f.name} ({f.kind}, {f.loss:.0%} at {f.plateau} {f.at})"
        if f.plateau not in ids:
            check.add("red", f"{where}: no plateau {f.plateau}")
            continue
        problem: str | None = None
        if f.kind == "iptables":
            assert f.iptables is not None
            problem = iptables_problem()
            if problem is None:
                proc = await asyncio.create_subprocess_exec(
                    "ip", "netns", "exec", f.iptables.netns, "true",
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
                if await proc.wait() != 0:
                    problem = f"network namespace {f.iptables.netns!r} does not exist"
        elif f.kind == "proxy":
            assert f.proxy is not None and f.egress is not None
            host, port = host_port(f.proxy.listen)
            up_host, _ = host_port(f.egress)
            problem = host_problem(f"http://{up_host}/", allowed) or (
                None if listen_free(host, port) else f"cannot listen on {f.proxy.listen}")
        elif f.kind == "toxiproxy":
            assert f.toxiproxy is not None
            problem = host_problem(f.toxiproxy.api, allowed)
        elif f.kind == "command":
            assert f.command is not None
            missing = [a[0] for a in (f.command.inject, f.command.revert) if not shutil.which(a[0])]
            problem = f"not found: {', '.join(missing)}" if missing else None
        elif f.kind == "http":
            assert f.http is not None
            try:
                for call in (f.http.inject, f.http.revert):
                    problem = problem or host_problem(expand(call.url, env), allowed)
            except MissingEnv as exc:
                problem = str(exc)
        check.add("red" if problem else "green", f"{where}: {problem or 'ready'}")
