"""The request mix: every endpoint with its probability, and a fast seeded sampler.

An endpoint's probability is its class's share of all arrivals times its own share
inside the class (weights are normalised at both levels): for perf-6b, ``search`` is
40/100 x 60/100 = 0.24.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from perfgate.plan.models import EndpointSpec, Plan


@dataclass(frozen=True, slots=True)
class EndpointRef:
    """One endpoint of the mix; ``index`` is its position in ``build_endpoints``' list."""

    index: int
    family: str
    mix_class: str
    name: str
    spec: EndpointSpec = field(compare=False, repr=False)
    timeout_s: float
    probability: float


def build_endpoints(plan: Plan) -> list[EndpointRef]:
    class_total = sum(c.weight for c in plan.mix.values())
    refs: list[EndpointRef] = []
    for class_name, mix_class in plan.mix.items():
        class_share = mix_class.weight / class_total
        endpoint_total = sum(e.weight for e in mix_class.endpoints)
        timeout_s = plan.families[mix_class.family].timeout
        for ep in mix_class.endpoints:
            refs.append(EndpointRef(
                index=len(refs), family=mix_class.family, mix_class=class_name, name=ep.name,
                spec=ep, timeout_s=timeout_s,
                probability=class_share * ep.weight / endpoint_total,
            ))
    return refs


class MixSampler:
    """Draws endpoints with their probabilities: one ``random()`` and a bisect per pick."""

    __slots__ = ("_cumulative", "_endpoints", "_last", "_random", "_total")

    def __init__(self, endpoints: Sequence[EndpointRef], rng: random.Random) -> None:
        if not endpoints:
            raise ValueError("the mix has no endpoints")
        if any(not e.probability > 0 for e in endpoints):
            raise ValueError("every endpoint needs a probability > 0")
        self._endpoints = tuple(endpoints)
        self._cumulative = list(accumulate(e.probability for e in endpoints))
        self._total = self._cumulative[-1]
        self._last = len(endpoints) - 1
        self._random = rng.random

    @property
    def endpoints(self) -> tuple[EndpointRef, ...]:
        return self._endpoints

    def pick(self) -> EndpointRef:
        i = bisect_right(self._cumulative, self._random() * self._total)
        return self._endpoints[i if i <= self._last else self._last]
