from __future__ import annotations

import asyncio
import importlib
from types import ModuleType

import pytest

from perfgate.engine.loop import select_loop


async def loop_type() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_auto_prefers_uvloop() -> None:
    pytest.importorskip("uvloop")
    choice = select_loop("auto")
    assert choice.name == "uvloop"
    with asyncio.Runner(loop_factory=choice.factory) as runner:
        assert runner.run(loop_type()).startswith("uvloop")


def test_asyncio_on_request() -> None:
    choice = select_loop("asyncio")
    assert choice.name == "asyncio"
    with asyncio.Runner(loop_factory=choice.factory) as runner:
        assert runner.run(loop_type()).startswith("asyncio")


def test_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def fake_import(name: str) -> ModuleType:
        if name == "uvloop":
            raise ImportError(name)
        return real(name)

    monkeypatch.setattr(importlib, "import_module", fake_import)
    assert select_loop("auto").name == "asyncio"
    with pytest.raises(RuntimeError, match="uvloop"):
        select_loop("uvloop")
    with pytest.raises(ValueError):
        select_loop("trio")  # type: ignore[arg-type]
