"""Three ledgers, one total: perfgate's, the target's billing ledger, the provider's report.

At the end of a run perfgate totals its own ledger (provider cost recomputed from
tokens x price, billed as the target reported it) and fetches:

* the target's billing ledger (JSON lines with ``request_id``, ``provider_cost_usd``,
  ``billed_usd``), over HTTP (``?since=<run start, Unix s>``) or from a file; only rows
  whose ``request_id`` starts with this run's id are counted (perfgate tags every
  request ``X-Request-ID: <run id>-<n>``), so other traffic never blurs the total;
* the provider's cost report (``?since=``), its ``total.cost_usd``.

Each pair of totals (provider cost: perfgate/target, perfgate/provider, target/provider;
billed: perfgate/target) is compared; a relative difference ``|a - b| / max(|a|, |b|)``
above the tolerance (1%) is a finding. A source that cannot be read is a finding too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import aiohttp

from perfgate.guards.budget import Budget, usd
from perfgate.guards.spec import HttpHookSpec, ReconcileSpec
from perfgate.telemetry.env import MissingEnv, expand_headers, resolve_url

__all__ = ["reconcile", "relative_difference"]

ZERO = Decimal(0)


def relative_difference(a: Decimal, b: Decimal) -> float:
    top = max(abs(a), abs(b))
    return 0.0 if top == 0 else float(abs(a - b) / top)


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a USD amount: {value!r}") from exc


def target_totals(lines: list[str], request_prefix: str) -> dict[str, Any]:
    cost = billed = ZERO
    rows = 0
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        if not str(row.get("request_id", "")).startswith(request_prefix):
            continue
        rows += 1
        cost += _dec(row.get("provider_cost_usd", 0))
        billed += _dec(row.get("billed_usd", 0))
    return {"rows": rows, "provider_cost_usd": cost, "billed_usd": billed}


async def _fetch(session: aiohttp.ClientSession, hook: HttpHookSpec, base_url: str,
                 env: Mapping[str, str], since: float) -> str:
    url = resolve_url(hook.url, base_url, env)
    headers = expand_headers(hook.headers, env)
    async with session.request(hook.method, url, headers=headers, params={"since": f"{since:.3f}"},
                               timeout=aiohttp.ClientTimeout(total=10)) as resp:
        text = await resp.text()
        if resp.status != 200:
            raise ValueError(f"HTTP {resp.status}")
        return text


async def reconcile(budget: Budget, spec: ReconcileSpec, *, base_url: str,
                    env: Mapping[str, str], since_epoch: float, request_prefix: str
                    ) -> dict[str, Any]:
    ours = {"provider_cost_usd": budget.realized, "billed_usd": budget.billed}
    out: dict[str, Any] = {
        "tolerance": spec.tolerance,
        "perfgate": {"provider_cost_usd": usd(budget.realized), "billed_usd": usd(budget.billed),
                     "unresolved_usd": usd(budget.unresolved)},
        "comparisons": [], "findings": []}
    totals: dict[str, dict[str, Decimal]] = {"perfgate": ours}
    async with aiohttp.ClientSession(trust_env=False) as session:
        if spec.target_billing is not None or spec.target_billing_file is not None:
            try:
                if spec.target_billing is not None:
                    text = await _fetch(session, spec.target_billing, base_url, env, since_epoch)
                else:
                    assert spec.target_billing_file is not None
                    text = Path(spec.target_billing_file).read_text(encoding="utf-8")
                t = target_totals(text.splitlines(), request_prefix)
                totals["target"] = {k: t[k] for k in ("provider_cost_usd", "billed_usd")}
                out["target"] = {"rows": t["rows"], **{k: usd(v) for k, v in
                                                        totals["target"].items()}}
            except (OSError, ValueError, aiohttp.ClientError, TimeoutError, MissingEnv) as exc:
                out["target"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                out["findings"].append(f"target billing ledger unreadable: {exc}"[:300])
        if spec.provider_report is not None:
            try:
                body = json.loads(await _fetch(session, spec.provider_report, base_url, env,
                                               since_epoch))
                total = body.get("total", body) if isinstance(body, dict) else {}
                cost = _dec(total["cost_usd"])
                totals["provider"] = {"provider_cost_usd": cost}
                out["provider"] = {"provider_cost_usd": usd(cost), "calls": total.get("calls")}
            except (OSError, ValueError, KeyError, aiohttp.ClientError, TimeoutError,
                    MissingEnv) as exc:
                out["provider"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                out["findings"].append(f"provider cost report unreadable: {exc}"[:300])
    pairs = [("provider_cost_usd", "perfgate", "target"), ("provider_cost_usd", "perfgate",
             "provider"), ("provider_cost_usd", "target", "provider"),
             ("billed_usd", "perfgate", "target")]
    for what, a, b in pairs:
        if what not in totals.get(a, {}) or what not in totals.get(b, {}):
            continue
        va, vb = totals[a][what], totals[b][what]
        diff = relative_difference(va, vb)
        ok = diff <= spec.tolerance
        out["comparisons"].append({"what": what, "a": a, "b": b, "a_usd": usd(va),
                                   "b_usd": usd(vb), "difference": round(diff, 6), "ok": ok})
        if not ok:
            out["findings"].append(f"{what}: {a} ${usd(va)} vs {b} ${usd(vb)} "
                                   f"({diff:.2%} > {spec.tolerance:.0%})")
    return out
