"""Puts the preflight's result (or that it was skipped, and by whom) in the run's store."""

from __future__ import annotations

import getpass
from typing import Any

from perfgate.controller.hooks import BaseHook, RunContext

__all__ = ["PreflightRecord"]


class PreflightRecord(BaseHook):
    name = "preflight"

    def __init__(self, report: dict[str, Any] | None) -> None:
        self.report = report

    async def on_start(self, ctx: RunContext) -> None:
        if self.report is None:
            value: dict[str, Any] = {"skipped": True, "by": getpass.getuser(),
                                     "note": "--skip-preflight: prerequisites not checked"}
            ctx.writer.add_event(0.0, "preflight", "preflight skipped (--skip-preflight)",
                                 severity="warning")
        else:
            value = {"skipped": False, **self.report}
            ctx.writer.add_event(0.0, "preflight", "preflight "
                                 + ("green" if self.report.get("ok") else "RED: "
                                    + ", ".join(self.report.get("red", []))))
        ctx.writer.set_meta("preflight", value)
        ctx.extras["preflight"] = {"skipped": value["skipped"], "ok": value.get("ok")}
