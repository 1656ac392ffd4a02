"""Stability (memory leak, GC pauses, error cascades) and resilience (breaker under
chaos, key failover) verdicts: pure functions over series, and ``fromstore`` to judge
a run's store. The plan's ``stability`` section is in ``spec``.
"""

from perfgate.stability.cascade import ErrorCount, cascade_verdict
from perfgate.stability.gc import gc_verdict
from perfgate.stability.leak import PlateauSeries, leak_verdict
from perfgate.stability.resilience import AiCall, breaker_verdict, failover_verdict
from perfgate.stability.spec import CascadeSpec, GcSpec, LeakSpec, StabilitySpec
from perfgate.stability.theilsen import SlopeEstimate, theil_sen
from perfgate.stability.verdict import Verdict

__all__ = ["AiCall", "CascadeSpec", "ErrorCount", "GcSpec", "LeakSpec", "PlateauSeries",
           "SlopeEstimate", "StabilitySpec", "Verdict", "breaker_verdict", "cascade_verdict",
           "failover_verdict", "gc_verdict", "leak_verdict", "theil_sen"]
