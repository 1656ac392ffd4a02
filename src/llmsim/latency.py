"""Latency model.

A call that produces ``n`` completion tokens takes

    ttft + n * per_token        (all times multiplied by ``latency_scale``)

* ``ttft`` (time to first token) is lognormal: ``exp(ln(median) + sigma * Z)``,
  ``Z`` standard normal, capped at ``ttft_max_ms`` so a freak draw cannot stall a
  run. The median is ``ttft_median_ms`` (350 ms by default);
* ``per_token`` is ``per_token_ms`` (2 ms by default).

A plain response is sent after the whole time; a stream sends its first chunk at
``ttft`` and then one token every ``per_token``.

Draws come from one RNG seeded with the simulator seed, so a run whose requests
arrive in the same order sees the same latencies. Drill latency
(``extra_latency_ms`` of ``POST /admin/faults``) is added on top and is *not*
scaled: it is an absolute amount a drill asks for.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from llmsim.config import LatencyConfig


@dataclass(frozen=True)
class LatencyPlan:
    """When the parts of one response are due, in seconds from the request's arrival."""

    ttft_s: float
    per_token_s: float
    tokens: int

    @property
    def total_s(self) -> float:
        return self.ttft_s + self.per_token_s * self.tokens

    def token_due_s(self, index: int) -> float:
        """When token ``index`` (0-based) is due; token 0 arrives with the first chunk."""
        return self.ttft_s + self.per_token_s * index


class LatencyModel:
    def __init__(self, config: LatencyConfig, *, scale: float, seed: int) -> None:
        self._config = config
        self._scale = scale
        self._rng = random.Random(seed)
        self._mu = math.log(config.ttft_median_ms / 1000.0)

    def reseed(self, seed: int) -> None:
        self._rng.seed(seed)

    def plan(self, tokens: int, *, extra_s: float = 0.0) -> LatencyPlan:
        cfg = self._config
        ttft = self._rng.lognormvariate(self._mu, cfg.ttft_sigma) if cfg.ttft_sigma else math.exp(
            self._mu
        )
        ttft = min(ttft, cfg.ttft_max_ms / 1000.0)
        return LatencyPlan(
            ttft_s=ttft * self._scale + max(extra_s, 0.0),
            per_token_s=cfg.per_token_ms / 1000.0 * self._scale,
            tokens=tokens,
        )
