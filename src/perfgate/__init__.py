"""perfgate: staged, production-like load tests under executive guardrails.

The public surface is the ``perfgate`` command (see ``perfgate.cli``) and the names
re-exported here, pinned by ``tests/perfgate/test_public_api.py``.
"""

from perfgate.plan.loader import PlanError, load_plan
from perfgate.plan.models import Plan

__all__ = ["Plan", "PlanError", "__version__", "load_plan"]

__version__ = "0.1.0"
