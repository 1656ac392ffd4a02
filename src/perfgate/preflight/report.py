"""The checklist: one ``Check`` per memo prerequisite, the report, and its renderings.

Status: ``green`` (confirmed, with evidence), ``red`` (blocks the run: exit 5),
``warn`` (shown, does not block), ``skip`` (the plan configures nothing to check).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from rich.table import Table
from rich.text import Text

__all__ = ["Check", "PreflightReport", "Status", "render"]

Status = Literal["green", "red", "warn", "skip"]
STYLE = {"green": "green", "red": "bold red", "warn": "yellow", "skip": "dim"}
MARK = {"green": "✔", "red": "✘", "warn": "!", "skip": "–"}


@dataclass
class Check:
    id: str
    title: str
    status: Status = "green"
    evidence: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, status: Status, line: str) -> None:
        """Note one finding; the check's status is the worst seen (red > warn > green)."""
        self.evidence.append(line)
        order = {"skip": 0, "green": 1, "warn": 2, "red": 3}
        if order[status] > order[self.status]:
            self.status = status

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status,
                "evidence": self.evidence, "data": self.data, "seconds": round(self.seconds, 3)}


@dataclass
class PreflightReport:
    plan: str
    target: str
    checks: list[Check]
    seconds: float = 0.0
    skipped: bool = False

    @property
    def red(self) -> list[Check]:
        return [c for c in self.checks if c.status == "red"]

    @property
    def ok(self) -> bool:
        return not self.red

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan, "target": self.target, "ok": self.ok,
                "red": [c.id for c in self.red], "seconds": round(self.seconds, 3),
                "checks": [c.to_dict() for c in self.checks]}


def render(report: PreflightReport) -> Table:
    table = Table(title=f"preflight {report.plan} -> {report.target}", show_lines=True,
                  title_justify="left")
    table.add_column("", width=2)
    table.add_column("prerequisite", min_width=18)
    table.add_column("evidence")
    for c in report.checks:
        ev = Text("\n".join(c.evidence) or "-")
        table.add_row(Text(MARK[c.status], style=STYLE[c.status]),
                      Text(c.title, style=STYLE[c.status]), ev)
    verdict = "READY" if report.ok else f"RED: {', '.join(c.id for c in report.red)}"
    table.caption = f"{verdict} ({report.seconds:.1f} s)"
    return table
