"""Vendor limits: the projected peak load per key against each key's RPM/TPM limits.

Projection (each key must carry the whole AI load alone: failover moves all of it)::

    RPM = peak plateau RPS x 60 x sum(p_e)                   over AI endpoints e
    TPM = peak plateau RPS x 60 x sum(p_e x (prompt_e + max_tokens_e))

``p_e`` is the endpoint's share of all arrivals; tokens are worst case, as the
provider counts ``max_tokens`` against TPM when it admits a request. Headroom is
``1 - projected / limit``.

Limits come from the plan (``vendor.keys[].rpm/tpm``) or from a ``GET {base}/models``
probe per key, which bills nothing: ``x-ratelimit-limit-requests`` and
``x-ratelimit-limit-tokens``. OpenAI limits are per project, so a secondary key only
helps in another project: the project comes from the ``openai-project`` response
header when the provider sends one (llmsim does), else from the plan's declared
``project``; two keys resolving to the same project is red.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from perfgate.engine.mix import build_endpoints
from perfgate.plan.models import Plan
from perfgate.preflight.report import Check
from perfgate.preflight.spec import VendorSpec
from perfgate.telemetry.env import MissingEnv, expand, host_problem

__all__ = ["KeyProbe", "check_vendor", "probe_key", "projected_peak"]


def projected_peak(plan: Plan) -> dict[str, float]:
    rps = max(s.rps for s in plan.schedule.plateaus)
    ai = [r for r in build_endpoints(plan) if r.spec.ai is not None]
    share = sum(r.probability for r in ai)
    tokens = sum(r.probability * (r.spec.ai.prompt_tokens + r.spec.ai.max_tokens)
                 for r in ai if r.spec.ai is not None)
    return {"peak_rps": rps, "ai_share": share, "rpm": rps * 60 * share,
            "tpm": rps * 60 * tokens}


@dataclass(frozen=True)
class KeyProbe:
    status: int | None
    project: str | None
    rpm: int | None
    tpm: int | None
    error: str | None = None


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value else None
    except ValueError:
        return None


async def probe_key(session: aiohttp.ClientSession, base_url: str, key: str) -> KeyProbe:
    url = base_url.rstrip("/") + "/models"
    try:
        async with session.get(url, headers={"Authorization": f"Bearer {key}"}) as resp:
            await resp.read()
            h = resp.headers
            return KeyProbe(resp.status, h.get("openai-project"),
                            _int(h.get("x-ratelimit-limit-requests")),
                            _int(h.get("x-ratelimit-limit-tokens")))
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return KeyProbe(None, None, None, None, f"{type(exc).__name__}: {exc}")


async def check_vendor(check: Check, plan: Plan, spec: VendorSpec | None,
                       env: Mapping[str, str]) -> None:
    peak = projected_peak(plan)
    check.data["projected"] = {k: round(v, 3) for k, v in peak.items()}
    if peak["ai_share"] == 0:
        check.add("skip", "no AI endpoints in the mix")
        return
    if spec is None:
        check.add("red", f"projected peak {peak['rpm']:.0f} RPM / {peak['tpm']:.0f} TPM per "
                  "key, but the plan has no `vendor` section (keys, limits, projects)")
        return
    check.add("green", f"projected peak at {peak['peak_rps']:g} RPS x {peak['ai_share']:.0%} "
              f"AI: {peak['rpm']:.0f} RPM, {peak['tpm']:.0f} TPM (worst-case tokens)")
    try:
        base_url = expand(spec.base_url, env)
    except MissingEnv as exc:
        base_url = spec.base_url
        problem: str | None = f"vendor.base_url: {exc}" if spec.probe else None
    else:
        problem = host_problem(base_url, plan.target.allowed_hosts) if spec.probe else None
    if problem:
        check.add("red", problem if problem.startswith("vendor.") else
                  f"vendor.base_url: {problem}")
    keys: list[dict[str, Any]] = []
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as session:
        for k in spec.keys:
            row: dict[str, Any] = {"name": k.name, "env": k.env, "declared_project": k.project}
            keys.append(row)
            value = env.get(k.env)
            probe = None
            if not value:
                check.add("red", f"key {k.name}: ${k.env} is not set")
            elif spec.probe and not problem:
                probe = await probe_key(session, base_url, value)
                row.update(probe_status=probe.status, probe_error=probe.error)
                if probe.status != 200:
                    check.add("red", f"key {k.name} (${k.env}) does not answer GET /models: "
                              f"{probe.error or f'HTTP {probe.status}'}")
            project = (probe.project if probe and probe.project else None) or k.project
            row["project"] = project
            row["project_source"] = ("openai-project header" if probe and probe.project
                                     else "plan" if k.project else None)
            if probe and probe.project and k.project and probe.project != k.project:
                check.add("red", f"key {k.name}: provider says project {probe.project}, the "
                          f"plan declares {k.project}")
            rpm = k.rpm or (probe.rpm if probe else None)
            tpm = k.tpm or (probe.tpm if probe else None)
            row.update(rpm_limit=rpm, tpm_limit=tpm,
                       limit_source="plan" if k.rpm or k.tpm else "probe headers")
            for what, limit in (("rpm", rpm), ("tpm", tpm)):
                if limit is None:
                    check.add("red", f"key {k.name}: no {what.upper()} limit (plan or probe)")
                    continue
                head = 1 - peak[what] / limit
                row[f"{what}_headroom"] = round(head, 4)
                check.add("green" if head >= spec.min_headroom else "red",
                          f"key {k.name} ({project or 'project ?'}): {peak[what]:.0f}/{limit} "
                          f"{what.upper()}, headroom {head:.0%}")
    check.data["keys"] = keys
    if len(spec.keys) < 2:
        check.add("red", "no secondary key for failover (the memo asks for one pre-approved)")
        return
    projects = [r["project"] for r in keys]
    if None in projects:
        check.add("red", "a key's project is unknown (no openai-project header, none declared)")
    elif len(set(projects)) < len(projects):
        check.add("red", f"keys share a project ({projects}): limits are per project, so the "
                  "secondary key adds no capacity")
    else:
        check.add("green", "keys in different projects: " + ", ".join(
            f"{r['name']}={r['project']} ({r['project_source']})" for r in keys))
