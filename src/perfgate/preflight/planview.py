"""Typed access to plan sections other packages define (guards, telemetry, chaos...).

``section(plan, "budget", BudgetSpec)`` is the section when the plan has it, else
None; an isinstance check keeps mypy strict without this package depending on the
order in which sections are added to ``Plan``.
"""

from __future__ import annotations

from typing import TypeVar

from perfgate.plan.models import Plan

__all__ = ["section"]

T = TypeVar("T")


def section(plan: Plan, name: str, kind: type[T]) -> T | None:
    value = getattr(plan, name, None)
    return value if isinstance(value, kind) else None
