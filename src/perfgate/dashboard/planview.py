"""What the page needs from the run's resolved plan: criteria, triggers, caps, chaos.

Read from ``plan.resolved.json`` in the run directory (secrets already redacted), as a
plain dict, so a plan section another part of perfgate adds later shows up without a
change here; anything missing is simply absent (the page says "not measured").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perfgate.store.writer import PLAN_NAME

__all__ = ["plan_view"]


def _what(item: dict[str, Any], default_op: str) -> str:
    subject = item.get("metric") or item.get("signal") or "?"
    if item.get("stat"):
        subject = f"{item['stat']}({subject})"
    text = f"{subject} {item.get('op') or default_op} {item.get('threshold')}"
    held = item.get("for")
    return f"{text} for {held:g} s" if isinstance(held, int | float) and held else text


def plan_view(run_dir: Path) -> dict[str, Any]:
    try:
        plan = json.loads((run_dir / PLAN_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"loaded": False}
    if not isinstance(plan, dict):
        return {"loaded": False}
    criteria = [{"name": c.get("name"), "family": c.get("family"), "what": _what(c, "<=")}
                for c in plan.get("criteria") or [] if isinstance(c, dict)]
    triggers_spec = plan.get("triggers") or {}
    rules = triggers_spec.get("rules") if isinstance(triggers_spec, dict) else None
    triggers = [{"name": r.get("name"), "family": r.get("family"), "signal": r.get("signal"),
                 "what": _what(r, ">") + (f" [{r['family']}]" if r.get("family") else "")}
                for r in rules or [] if isinstance(r, dict)]
    budget = plan.get("budget")
    if not isinstance(budget, dict):
        budget = {}
    return {"loaded": True, "criteria": criteria, "triggers": triggers,
            "budget": {"hard_cap_usd": budget.get("hard_cap_usd"),
                       "soft_alert_usd": budget.get("soft_alert_usd")},
            "chaos": bool(plan.get("chaos"))}
