"""The planned traffic mix against the latest production telemetry (memo: within 5 pp).

Counts come from ``--telemetry`` (or ``preflight.telemetry_mix``), a file or a URL:

* JSON: ``{"name": count, ...}`` or ``[{"name"|"endpoint"|"family"|"route": .., "count": ..}]``
* CSV: a header with a name column (``name``/``endpoint``/``family``/``route``) and ``count``
* Prometheus text: ``preflight.mix_metric`` summed by ``preflight.mix_label``
* PromQL (a URL with ``/api/v1/query``): the result vector, named by ``mix_label``

A name is matched to an endpoint name, a mix class, a family, or an endpoint path
(``{param}`` placeholders match any ``{...}`` route template). Shares are compared per
mix class (the memo's "profile reads 35 / search 40 / AI 25"), or per family when the
counts only name families. Any drift over the tolerance is red; the adjusted mix is
the observed shares, and ``--adopt-telemetry-mix`` writes it into a copy of the plan.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from perfgate.plan.models import Plan
from perfgate.telemetry.promtext import parse_exposition

__all__ = ["MixError", "adopt_mix", "compare_mix", "read_counts"]

_NAME_KEYS = ("name", "endpoint", "family", "route", "mix_class", "path")


class MixError(ValueError):
    """Telemetry counts that cannot be read."""


def _fetch(source: str) -> str:
    if source.startswith(("http://", "https://")):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(source, timeout=10) as resp:
            return str(resp.read().decode("utf-8", "replace"))
    return Path(source).read_text(encoding="utf-8")


def _rows_json(data: Any, label: str) -> dict[str, float]:
    if isinstance(data, dict) and data.get("status") == "success":  # PromQL API answer
        out: dict[str, float] = {}
        for r in data.get("data", {}).get("result", []):
            name = r.get("metric", {}).get(label, "")
            out[name] = out.get(name, 0.0) + float(r["value"][1])
        return out
    if isinstance(data, dict):
        return {str(k): float(v) for k, v in data.items()}
    if isinstance(data, list):
        out = {}
        for row in data:
            name = next((str(row[k]) for k in _NAME_KEYS if k in row), None)
            if name is None or "count" not in row:
                raise MixError(f"row {row!r} needs a name and a count")
            out[name] = out.get(name, 0.0) + float(row["count"])
        return out
    raise MixError("JSON counts are an object or a list of rows")


def read_counts(source: str, metric: str, label: str) -> dict[str, float]:
    """Request counts by name from ``source``; raises MixError saying what is wrong."""
    try:
        text = _fetch(source)
    except OSError as exc:
        raise MixError(f"{source}: cannot read: {exc}") from exc
    stripped = text.lstrip()
    try:
        if stripped.startswith(("{", "[")):
            return _rows_json(json.loads(text), label)
        first = stripped.splitlines()[0] if stripped else ""
        if "," in first and not first.startswith("#"):
            reader = csv.DictReader(io.StringIO(text))
            out: dict[str, float] = {}
            for row in reader:
                name = next((row[k] for k in _NAME_KEYS if row.get(k)), None)
                if name is None or not row.get("count"):
                    raise MixError(f"CSV row {row!r} needs a name column and count")
                out[name] = out.get(name, 0.0) + float(row["count"])
            return out
        index = parse_exposition(text, [metric])
        rows = index.get(metric) or index.get(metric.removesuffix("_total") + "_total") or []
        out = {}
        for labels, value in rows:
            name = labels.get(label, "")
            out[name] = out.get(name, 0.0) + value
        if not out:
            raise MixError(f"{source}: no {metric} samples")
        return out
    except (ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, MixError):
            raise
        raise MixError(f"{source}: {exc}") from exc


def _route(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])


def _match(plan: Plan, name: str) -> tuple[str, str] | None:
    """(level, key): endpoint -> ('endpoint', 'class/endpoint'), class, family."""
    for cname, mc in plan.mix.items():
        for ep in mc.endpoints:
            if name == ep.name or _route(name) == _route(ep.path):
                return "endpoint", f"{cname}/{ep.name}"
    if name in plan.mix:
        return "class", name
    if name in plan.families:
        return "family", name
    return None


def _shares(counts: Mapping[str, float]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: 100 * v / total for k, v in counts.items()} if total else {}


def compare_mix(plan: Plan, counts: Mapping[str, float], tolerance_pp: float
                ) -> dict[str, Any]:
    """The comparison: level, planned and observed shares (percent), drift, the adjusted
    weights, unmatched names; ``ok`` when every drift is within the tolerance."""
    by: dict[str, dict[str, float]] = {"endpoint": {}, "class": {}, "family": {}}
    unmatched: list[str] = []
    for name, n in counts.items():
        m = _match(plan, name)
        if m is None:
            unmatched.append(name)
        else:
            by[m[0]][m[1]] = by[m[0]].get(m[1], 0.0) + n
    classes = dict(by["class"])
    for key, n in by["endpoint"].items():
        cname = key.split("/")[0]
        classes[cname] = classes.get(cname, 0.0) + n
    total_w = sum(mc.weight for mc in plan.mix.values())
    if classes:
        level = "mix class"
        planned = {c: 100 * mc.weight / total_w for c, mc in plan.mix.items()}
        observed = {c: _shares(classes).get(c, 0.0) for c in plan.mix}
    else:
        level = "family"
        planned = {}
        for mc in plan.mix.values():
            planned[mc.family] = planned.get(mc.family, 0.0) + 100 * mc.weight / total_w
        observed = {f: _shares(by["family"]).get(f, 0.0) for f in planned}
    if not sum(observed.values()):
        raise MixError(f"no counts match the plan's endpoints, classes or families "
                       f"(names seen: {sorted(counts)[:10]})")
    drift = {k: round(observed[k] - planned[k], 2) for k in planned}
    adjusted: dict[str, Any] = {}
    if level == "mix class":
        for cname in plan.mix:
            eps = {k.split("/")[1]: n for k, n in by["endpoint"].items()
                   if k.startswith(cname + "/")}
            adjusted[cname] = {"weight": round(observed[cname], 1),
                               "endpoints": {e: round(s, 1) for e, s in _shares(eps).items()}}
    return {"level": level, "planned": {k: round(v, 2) for k, v in planned.items()},
            "observed": {k: round(v, 2) for k, v in observed.items()}, "drift_pp": drift,
            "tolerance_pp": tolerance_pp, "unmatched": sorted(unmatched), "adjusted": adjusted,
            "ok": all(abs(d) <= tolerance_pp for d in drift.values())}


def adopt_mix(plan_path: Path, adjusted: Mapping[str, Any], out: Path | None = None) -> Path:
    """Write a copy of the plan with the adjusted class (and endpoint) weights."""
    data = yaml.safe_load(plan_path.read_text(encoding="utf-8"))
    for cname, adj in adjusted.items():
        mc = data["mix"][cname]
        if adj["weight"] > 0:
            mc["weight"] = adj["weight"]
        for ep in mc["endpoints"]:
            share = adj["endpoints"].get(ep["name"])
            if share:
                ep["weight"] = share
    target = out or plan_path.with_name(plan_path.stem + ".telemetry-mix.yaml")
    header = (f"# {plan_path.name} with the traffic mix adopted from production telemetry "
              "(perfgate preflight --adopt-telemetry-mix)\n")
    target.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return target
