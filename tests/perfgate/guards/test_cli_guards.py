"""``perfgate run`` refuses to start what the guards cannot enforce (exit 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from guards_fakes import GUARDED_PLAN
from typer.testing import CliRunner

from perfgate.cli.main import app


@pytest.mark.parametrize(("edit", "args", "message"), [
    (lambda t: t.replace("weight: 75", "weight: 70").replace("weight: 25", "weight: 30"), [],
     "30.0% AI calls, above 25%"),
    (lambda t: t, ["--guards", "lenient"], "'lenient' is not one of"),
    (lambda t: t[:t.index("budget:")], [], "no budget"),
])
def test_refused_plans_exit_4_before_any_traffic(tmp_path: Path, edit: object, args: list[str],
                                                message: str) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(edit(GUARDED_PLAN), encoding="utf-8")  # type: ignore[operator]
    result = CliRunner().invoke(app, ["run", str(plan), "--out", str(tmp_path / "runs"),
                                      "--no-dashboard", *args])
    assert result.exit_code == 4, result.output
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "runs").exists()
