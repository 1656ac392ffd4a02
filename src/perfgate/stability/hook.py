"""At the end of a run: judge stability and resilience from the store, store the result.

Runs after the chaos hook's ``on_end`` (list it later), so the chaos events and the
reverts are in the store it reads; it commits first so every second is there. The
verdicts go to meta ``stability`` and ``resilience`` (``perfgate report`` judges a
store that lacks them, e.g. after a crash, the same way).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from perfgate.controller.hooks import BaseHook, RunContext
from perfgate.stability.fromstore import judge_store
from perfgate.store.reader import RunReader

__all__ = ["StabilityHook"]


def _judge(run_dir: Path) -> dict[str, Any]:
    with RunReader(run_dir) as reader:  # this thread's own read-only connection
        return judge_store(reader)


class StabilityHook(BaseHook):
    name = "stability"

    def __init__(self) -> None:
        self.result: dict[str, Any] | None = None

    async def on_end(self, ctx: RunContext, status: str) -> None:
        ctx.writer.commit()
        self.result = await asyncio.to_thread(_judge, ctx.run_dir)
        for key in ("stability", "resilience"):
            ctx.writer.set_meta(key, self.result[key])
        ctx.extras["stability"] = {k: v["verdict"] for k, v in self.result.items()}
