from __future__ import annotations

import random
import re

from perfgate.engine.tags import Tagger

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-01$")


def test_tags_are_well_formed_and_ids_unique() -> None:
    tagger = Tagger("perf6b", "run42-s0", random.Random(1))
    ids = set()
    traces = set()
    for i in range(20_000):
        headers: dict[str, str] = {"Authorization": "x"}
        plateau = f"p{i % 6}"
        rid = tagger.apply(headers, plateau)
        assert headers["X-Perf-Run"] == "perf6b"
        assert headers["X-Perf-Plateau"] == plateau
        assert headers["baggage"] == f"perf.run=perf6b,perf.plateau={plateau}"
        assert headers["X-Request-ID"] == rid and rid.startswith("run42-s0-")
        m = TRACEPARENT.match(headers["traceparent"])
        assert m and set(m.group(1)) != {"0"} and set(m.group(2)) != {"0"}
        ids.add(rid)
        traces.add(m.group(1))
        assert headers["Authorization"] == "x"
    assert len(ids) == 20_000 and len(traces) == 20_000
    assert tagger.issued == 20_000


def test_traceparent_never_all_zeros() -> None:
    class Zero(random.Random):
        def getrandbits(self, k: int) -> int:
            return 0

    headers: dict[str, str] = {}
    Tagger("r", "x", Zero()).apply(headers, "p1")
    assert headers["traceparent"] == f"00-{1:032x}-{1:016x}-01"


def test_default_prefixes_differ_between_taggers() -> None:
    a, b = {}, {}  # type: ignore[var-annotated]
    Tagger("perf6b").apply(a, "p1")
    Tagger("perf6b").apply(b, "p1")
    assert a["X-Request-ID"] != b["X-Request-ID"]
    assert a["X-Request-ID"].startswith("perf6b-")
