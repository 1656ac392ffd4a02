"""The dashboard's heavy reads, in a child process: never in the generator's process.

A browser that opens the page late in a long run needs the whole run: every second's
rows (about a second of CPU for a 90-minute perf-6b store) and the report's figures
(several seconds). Done in a thread of the run's process they would hold the GIL against
the load generator's event loop, whose lag is one of the validity rules (p99 <= 10 ms).
So each runs in a short-lived child (``python -m perfgate.dashboard.workercli``: a plain
process, no multiprocessing, so the parent's ``__main__`` is never re-imported) and comes
back as ready-made JSON; the per-second tail reads (well under a millisecond) stay in a
thread of the run's process.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

from perfgate.dashboard.livecharts import full_figures
from perfgate.dashboard.sse import to_json
from perfgate.dashboard.tail import Cursor, read_tail

__all__ = ["HeavyReads", "WorkerError", "catch_up_json", "figures_json"]

TIMEOUT_S = 120.0


class WorkerError(RuntimeError):
    """The child failed (its stderr's last lines say why)."""


def catch_up_json(run_dir: Path, cursor: Cursor) -> tuple[str, Cursor]:
    """Everything stored after ``cursor``, as the JSON object a tick carries its rows in."""
    tail, new = read_tail(run_dir, cursor)
    return to_json(tail), new


def figures_json(run_dir: Path) -> str:
    return to_json(full_figures(run_dir))


class HeavyReads:
    """``await heavy.catch_up(run_dir, cursor)`` and ``await heavy.figures(run_dir)``."""

    def __init__(self, *, in_process: bool = False) -> None:
        self._in_process = in_process  # unit tests: a thread of this process instead

    async def _child(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "perfgate.dashboard.workercli", *args,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
        except BaseException:  # cancelled (the run ended) or too slow: no orphan left
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        if proc.returncode != 0:
            lines = err.decode(errors="replace").strip().splitlines()
            raise WorkerError(f"dashboard worker exit {proc.returncode}: "
                              + (lines[-1] if lines else "no message"))
        return out.decode()

    async def catch_up(self, run_dir: Path, cursor: Cursor) -> tuple[str, Cursor]:
        if self._in_process:
            return await asyncio.to_thread(catch_up_json, run_dir, cursor)
        head, _, rows = (await self._child("catch-up", str(run_dir), cursor.encode())
                         ).partition("\n")
        return rows, Cursor.parse(head)

    async def figures(self, run_dir: Path, *, small: bool = False) -> str:
        """``small``: a store of a few minutes, quicker to read here than to start a child."""
        if self._in_process or small:
            return await asyncio.to_thread(figures_json, run_dir)
        return await self._child("figures", str(run_dir))

