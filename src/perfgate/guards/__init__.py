"""Guardrails while the run goes: pass criteria, abort triggers, ramp discipline, the
cost budget and kill switch, the outbound sink, perfgate's /metrics, the war room.

Wiring (the CLI does this)::

    hooks = build_hooks(plan, mode="enforce", time_scale=0.05)   # GuardsConfigError: exit 4
    Controller(config, hooks=hooks)

Public names are re-exported here (pinned by tests/perfgate/guards/test_public_api.py).
Only declarative and pure modules are imported eagerly: ``perfgate.plan.models``
imports ``perfgate.guards.spec``, and the hooks import the plan, so ``build_hooks``
imports them when called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from perfgate.guards.errors import GuardsConfigError
from perfgate.guards.spec import (
    BudgetSpec,
    CriterionSpec,
    MetricsEndpointSpec,
    ModelPriceSpec,
    TriggerSpec,
    TriggersSpec,
    WarRoomSpec,
)
from perfgate.guards.stats import order_statistic_ranks, wilson_interval
from perfgate.guards.units import Unit, parse_threshold

if TYPE_CHECKING:
    from perfgate.controller.hooks import RunHook
    from perfgate.guards.warroom import WarRoomHook
    from perfgate.plan.models import Plan

__all__ = [
    "BudgetSpec",
    "CriterionSpec",
    "GuardsConfigError",
    "MetricsEndpointSpec",
    "ModelPriceSpec",
    "TriggerSpec",
    "TriggersSpec",
    "Unit",
    "WarRoomSpec",
    "build_hooks",
    "order_statistic_ranks",
    "parse_threshold",
    "war_room",
    "wilson_interval",
]


def build_hooks(plan: Plan, *, mode: str = "enforce", time_scale: float = 1.0,
                env: Mapping[str, str] | None = None, metrics_port: int | None = None,
                outbound_sink_port: int | None = None) -> list[RunHook]:
    """The run's guard hooks, in the order the controller must call them.

    ``mode``: ``enforce`` (stop on a red plateau or a fired trigger) or ``observe``
    (judge and record only; the hard cost cap still stops the run). ``env``: where
    ``${NAME}`` in URLs and headers is looked up (default ``os.environ``).
    ``metrics_port``: serve perfgate's /metrics there (0 = any free port; None = off).
    ``outbound_sink_port``: overrides ``triggers.outbound_sink.port``, so a caller can
    point the target's outbound URLs at the sink before the run starts. Raises
    ``GuardsConfigError`` with every problem found (the run must not start).
    """
    from perfgate.guards.build import build_all  # see the module docstring: import cycle

    return build_all(plan, mode=mode, time_scale=time_scale, env=env,
                     metrics_port=metrics_port, outbound_sink_port=outbound_sink_port)


def war_room(hooks: Sequence[object]) -> WarRoomHook | None:
    """The war-room hook among ``hooks``: call ``.notify(kind, text)`` to post to it."""
    from perfgate.guards.warroom import WarRoomHook

    return next((h for h in hooks if isinstance(h, WarRoomHook)), None)
