"""CLI contract: exit codes and messages (typer's CliRunner, in process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfgate.cli.main import app, main

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


def test_validate_perf6b_ok() -> None:
    result = runner.invoke(app, ["plan", "validate", str(ROOT / "plans" / "perf-6b.yaml")])
    assert result.exit_code == 0, result.output
    assert "5 plateaus" in result.output


def test_validate_broken_plan_exit_4_with_file_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "plans" / "perf-6b.yaml").read_text().replace(
        "arrival: poisson", "arrival: poison").replace("weight: 35", "weight: -35")
    bad.write_text(text)
    result = runner.invoke(app, ["plan", "validate", str(bad)])
    assert result.exit_code == 4
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error")]
    assert len(lines) == 2, result.output
    assert any(f"{bad}:" in ln and "schedule.arrival" in ln for ln in lines)
    assert any("mix.profile_reads.weight" in ln for ln in lines)


def test_validate_json_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    result = runner.invoke(app, ["plan", "validate", "--json", str(bad)])
    assert result.exit_code == 4
    data = json.loads(result.output)
    assert data["valid"] is False
    assert {e["path"] for e in data["errors"]} >= {"run_tag", "target", "schedule"}


def test_show_and_schema() -> None:
    shown = runner.invoke(app, ["plan", "show", "--json", str(ROOT / "plans" / "perf-6b.yaml")])
    assert shown.exit_code == 0
    data = json.loads(shown.output)
    assert data["engine"]["max_inflight"] > 0  # defaults filled in
    schema = runner.invoke(app, ["plan", "schema"])
    assert schema.exit_code == 0
    assert "run_tag" in json.loads(schema.output)["properties"]


def test_missing_plan_file_exit_4() -> None:
    result = runner.invoke(app, ["run", "/nonexistent.yaml"])
    assert result.exit_code == 4


def test_disallowed_target_exit_4(toy_plan: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(toy_plan), "--target", "http://203.0.113.7:80",
                                 "--out", str(tmp_path / "runs")])
    assert result.exit_code == 4
    assert "not in target.allowed_hosts" in result.output
    assert not (tmp_path / "runs").exists()  # nothing was started


def test_missing_secret_exit_4(toy_plan: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOY_TOKEN")
    result = runner.invoke(app, ["run", str(toy_plan), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 4
    assert "TOY_TOKEN" in result.output


def test_report_on_non_run_dir_exit_4(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 4


def test_abort_needs_run_dir_and_reason(tmp_path: Path) -> None:
    assert runner.invoke(app, ["abort", str(tmp_path), "--reason", "x"]).exit_code == 4
    (tmp_path / "run.sqlite").write_bytes(b"")
    assert runner.invoke(app, ["abort", str(tmp_path), "--reason", "  "]).exit_code == 4
    ok = runner.invoke(app, ["abort", str(tmp_path), "--reason", "CPU alarm", "--who", "lead"])
    assert ok.exit_code == 0
    assert json.loads((tmp_path / "abort.request").read_text())["who"] == "lead"


@pytest.mark.parametrize("argv", [["run"], ["run", "x.yaml", "--time-scale", "fast"], ["nope"]])
def test_usage_error_exit_4(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # click would exit 2 (ABORTED in perfgate's contract); main() maps usage errors to 4
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 4
    assert "Usage" in capsys.readouterr().err
