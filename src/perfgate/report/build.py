"""Every deliverable of a run, rebuilt from its store: ``summary.json``, ``report.html``,
``junit.xml`` (and ``report.pdf`` on request). Used at the end of ``perfgate run`` and by
``perfgate report RUN_DIR`` (finished, aborted or crashed runs alike)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfgate.report.criteria import results_by_plateau
from perfgate.report.digest import digest
from perfgate.report.junit import junit_xml
from perfgate.report.model import ReportModel, build_model
from perfgate.report.pdf import print_pdf
from perfgate.report.render import render_html
from perfgate.report.summary import write_summary
from perfgate.store.reader import RunReader

__all__ = ["Deliverables", "write_deliverables"]


@dataclass(frozen=True)
class Deliverables:
    summary: dict[str, Any]
    model: ReportModel
    summary_path: Path
    html_path: Path
    junit_path: Path
    pdf_path: Path | None = None


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_deliverables(run_dir: Path, *, pdf: bool = False) -> Deliverables:
    """Raises ``StoreError`` for a directory without a store; ``PdfError`` when ``pdf``
    was asked for and Chromium could not print (the other files are written first)."""
    run_dir = Path(run_dir)
    with RunReader(run_dir) as reader:
        model, summary = build_model(reader)
        results = results_by_plateau(reader.criteria_results())
    summary["report"] = digest(model)  # the report's conclusions, for CI gates
    summary_path = write_summary(run_dir, summary)
    html = _write(run_dir / "report.html", render_html(model))
    junit = _write(run_dir / "junit.xml", junit_xml(summary, results))
    pdf_path = print_pdf(html, run_dir / "report.pdf") if pdf else None
    return Deliverables(summary, model, summary_path, html, junit, pdf_path)
