"""Why guards cannot be built for a plan (the run refuses to start: exit 4)."""

from __future__ import annotations

__all__ = ["GuardsConfigError"]


class GuardsConfigError(ValueError):
    """Every problem found, each naming the plan key it is about."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))
