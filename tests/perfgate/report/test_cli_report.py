"""`perfgate report RUN_DIR` (all deliverables, --pdf) and `perfgate plan soak RUN_DIR`."""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfgate.cli.main import app
from perfgate.plan.loader import load_plan

runner = CliRunner()


@pytest.fixture(name="run")
def run_fixture(small_run: Path, tmp_path: Path) -> Path:
    shutil.copytree(small_run, tmp_path / "run")
    return tmp_path / "run"


def test_report_writes_every_deliverable(run: Path) -> None:
    result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    for name in ("report.html", "summary.json", "junit.xml"):
        assert (run / name).is_file()
        assert str(run / name) in result.output
    assert "verdict PASS" in result.output
    again = runner.invoke(app, ["report", str(run), "--json"])
    assert again.exit_code == 0 and '"schema": "perfgate.summary/1"' in again.output


def test_report_on_a_crashed_run(make_store: Callable[..., Path]) -> None:
    run = make_store(status="running", stop_at_s=100.0)
    result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    assert "incomplete run" in result.output and (run / "report.html").is_file()


def test_report_bad_dir_exit_4(tmp_path: Path) -> None:
    assert runner.invoke(app, ["report", str(tmp_path)]).exit_code == 4


@pytest.mark.integration
def test_report_pdf(run: Path, chromium: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFGATE_CHROMIUM", chromium)
    result = runner.invoke(app, ["report", str(run), "--pdf"])
    assert result.exit_code == 0, result.output
    pdf = run / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000


def test_report_pdf_without_a_browser(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFGATE_CHROMIUM", str(run / "no-such-browser"))
    result = runner.invoke(app, ["report", str(run), "--pdf"])
    assert result.exit_code == 4 and "report.pdf" in result.output
    assert (run / "report.html").is_file()  # everything else was written first


def test_plan_soak_writes_perf7a(run: Path) -> None:
    result = runner.invoke(app, ["plan", "soak", str(run)])
    assert result.exit_code == 0, result.output
    path = run / "perf-7a.yaml"
    assert str(path) in result.output and "4 h at 62 RPS" in result.output
    plan = load_plan(path)
    assert plan.name == "perf-7a" and plan.run_tag == "perf7a"
    assert [(s.rps, s.duration) for s in plan.schedule.plateaus] == [(62.0, 4 * 3600.0)]
    assert plan.schedule.warmup is not None and plan.schedule.warmup.rps == 10.0
    assert plan.criteria and plan.budget is not None  # the same guardrails
    assert all(c.plateaus in ("all", ["p1"]) for c in plan.captures)
    text = path.read_text()
    assert "Projected AI spend: $" in text and "Schedule it by" in text


def test_plan_soak_refuses_a_failed_run(make_store: Callable[..., Path], tmp_path: Path
                                        ) -> None:
    run = make_store(overrides={"p2": {"core_p95": "FAIL"}})
    result = runner.invoke(app, ["plan", "soak", str(run)])
    assert result.exit_code == 4 and "FAIL" in result.output
    forced = runner.invoke(app, ["plan", "soak", str(run), "--force", "--out",
                                 str(tmp_path / "soak.yaml")])
    assert forced.exit_code == 0, forced.output
    assert load_plan(tmp_path / "soak.yaml").schedule.plateaus[0].rps == 21.0
