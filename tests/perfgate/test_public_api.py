"""The public Python surface is small and pinned: changing it is a decision, not an accident."""

from __future__ import annotations

import perfgate


def test_public_names() -> None:
    assert sorted(perfgate.__all__) == ["Plan", "PlanError", "__version__", "load_plan"]
    for name in perfgate.__all__:
        assert hasattr(perfgate, name)


def test_import_has_no_side_effects() -> None:
    import asyncio
    import logging

    # importing perfgate installs no event-loop policy and no logging handlers
    assert type(asyncio.get_event_loop_policy()).__module__.startswith("asyncio")
    assert not logging.getLogger().handlers or all(
        type(h).__module__.startswith(("_pytest", "logging")) for h in logging.getLogger().handlers)
