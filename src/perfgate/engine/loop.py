"""Which event loop runs a shard: uvloop when available (``auto``), or as the plan says.

Nothing global is installed: the caller runs with
``asyncio.Runner(loop_factory=choice.factory)``.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

LoopName = Literal["auto", "asyncio", "uvloop"]


@dataclass(frozen=True, slots=True)
class LoopChoice:
    name: Literal["asyncio", "uvloop"]
    factory: Callable[[], asyncio.AbstractEventLoop]


def select_loop(choice: LoopName = "auto") -> LoopChoice:
    """``auto``: uvloop if importable, else asyncio; ``uvloop`` raises when it is missing."""
    if choice not in ("auto", "asyncio", "uvloop"):
        raise ValueError(f"unknown loop {choice!r}: use auto, asyncio or uvloop")
    if choice != "asyncio":
        try:
            uvloop = importlib.import_module("uvloop")
        except ImportError as exc:
            if choice == "uvloop":
                raise RuntimeError("engine.loop is 'uvloop' but uvloop is not installed") from exc
        else:
            factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
            return LoopChoice("uvloop", factory)
    return LoopChoice("asyncio", asyncio.new_event_loop)
