"""Heap top-N with tracemalloc. Tracing costs CPU, so it starts lazily: on the first
``GET /admin/heap`` (which then answers ``tracing_started: true`` and an empty list) or at
startup when ``Settings.tracemalloc`` is set. ``DELETE /admin/heap`` stops it."""

from __future__ import annotations

import tracemalloc
from typing import Any


class HeapProfiler:
    def __init__(self) -> None:
        self._started_here = False

    def start(self) -> bool:
        if tracemalloc.is_tracing():
            return False
        tracemalloc.start(5)
        self._started_here = True
        return True

    def stop(self) -> bool:
        if self._started_here and tracemalloc.is_tracing():
            tracemalloc.stop()
            self._started_here = False
            return True
        return False

    def top(self, n: int) -> dict[str, Any]:
        if not tracemalloc.is_tracing():
            self.start()
            return {"tracing_started": True, "top": [],
                    "note": "tracemalloc started now; ask again after some traffic"}
        snapshot = tracemalloc.take_snapshot().filter_traces(
            (tracemalloc.Filter(False, tracemalloc.__file__),)
        )
        current, peak = tracemalloc.get_traced_memory()
        stats = snapshot.statistics("lineno")[:n]
        return {
            "tracing_started": False,
            "traced_bytes": current,
            "peak_bytes": peak,
            "top": [
                {"where": f"{s.traceback[0].filename}:{s.traceback[0].lineno}",
                 "size_bytes": s.size, "count": s.count}
                for s in stats
            ],
        }
