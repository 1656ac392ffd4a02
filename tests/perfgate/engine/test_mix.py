from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from perfgate.engine.mix import EndpointRef, MixSampler, build_endpoints
from perfgate.plan.models import Plan


def test_perf6b_probabilities(perf6b: Plan) -> None:
    refs = build_endpoints(perf6b)
    probs = {r.name: r.probability for r in refs}
    assert probs == pytest.approx({"profile": 0.35, "search": 0.24, "browse": 0.16,
                                   "ai_analyze": 0.15, "ai_generate": 0.10})
    assert [r.index for r in refs] == list(range(len(refs)))
    assert {r.name: (r.family, r.mix_class) for r in refs}["browse"] == ("core", "search_browse")
    assert {r.family: r.timeout_s for r in refs} == {"core": 5.0, "ai": 30.0}


def test_sampler_proportions_within_four_sigma(perf6b: Plan) -> None:
    refs = build_endpoints(perf6b)
    n = 100_000
    sampler = MixSampler(refs, random.Random(6))
    counts = Counter(sampler.pick().name for _ in range(n))
    for ref in refs:
        p = ref.probability
        assert abs(counts[ref.name] - n * p) < 4 * math.sqrt(n * p * (1 - p)), ref.name
    by_class = Counter()  # type: Counter[str]
    for ref in refs:
        by_class[ref.mix_class] += counts[ref.name]
    for name, share in {"profile_reads": .35, "search_browse": .40, "ai_analysis": .25}.items():
        assert abs(by_class[name] - n * share) < 4 * math.sqrt(n * share * (1 - share)), name


def test_sampler_is_seeded(perf6b: Plan) -> None:
    refs = build_endpoints(perf6b)
    a = MixSampler(refs, random.Random(1))
    b = MixSampler(refs, random.Random(1))
    assert [a.pick().index for _ in range(1000)] == [b.pick().index for _ in range(1000)]


def test_sampler_edge_of_unit_interval(perf6b: Plan) -> None:
    class Top(random.Random):
        def random(self) -> float:
            return 1.0 - 2 ** -53

    refs = build_endpoints(perf6b)
    assert MixSampler(refs, Top()).pick() is refs[-1]


def test_sampler_rejects_empty() -> None:
    with pytest.raises(ValueError):
        MixSampler([], random.Random())


def test_endpoint_ref_is_hashable(perf6b: Plan) -> None:
    refs: list[EndpointRef] = build_endpoints(perf6b)
    assert len({*refs}) == len(refs)
