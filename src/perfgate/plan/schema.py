"""The plan's JSON Schema, for editors and `perfgate plan schema`."""

from __future__ import annotations

from typing import Any

from perfgate.plan.models import Plan


def plan_json_schema() -> dict[str, Any]:
    return Plan.model_json_schema(by_alias=True)
