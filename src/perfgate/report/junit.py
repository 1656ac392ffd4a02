"""``junit.xml`` for CI gates: one test case per criterion per plateau.

FAIL is a ``<failure>``, INSUFFICIENT a ``<skipped>`` (too few samples to judge), PASS a
plain case. Each analysed plateau also gets a ``drive`` case (under-driven: failure), and
the run a ``run`` case failing when it was aborted, interrupted or never closed, so a
pipeline gates on the same call the report makes. Suites are plateaus.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from perfgate.report.criteria import Result

__all__ = ["junit_xml"]


def _case(suite: ET.Element, name: str, classname: str, *, failure: str | None = None,
          skipped: str | None = None, output: str = "") -> None:
    case = ET.SubElement(suite, "testcase", name=name, classname=classname, time="0")
    if failure is not None:
        ET.SubElement(case, "failure", message=failure[:500], type="FAIL").text = failure
    elif skipped is not None:
        ET.SubElement(case, "skipped", message=skipped[:500])
    if output:
        ET.SubElement(case, "system-out").text = output


def junit_xml(summary: Mapping[str, Any], results: Mapping[str, list[Result]]) -> str:
    run_id = str(summary.get("run_id"))
    root = ET.Element("testsuites", name=f"perfgate {summary.get('plan')} {run_id}")
    run_suite = ET.SubElement(root, "testsuite", name=f"{run_id}.run")
    verdict = str(summary.get("verdict"))
    bad = verdict in ("ABORTED", "INTERRUPTED", "INCOMPLETE")
    _case(run_suite, "run", f"{run_id}.run",
          failure=f"run {verdict}: {summary.get('reason') or ''}" if bad else None,
          output=f"verdict {verdict}, status {summary.get('status')}")
    for p in summary.get("plateaus", []):
        if p.get("warmup"):
            continue
        pid = p["id"]
        suite = ET.SubElement(root, "testsuite", name=f"{run_id}.{pid}")
        _case(suite, "drive", f"{run_id}.{pid}",
              failure=None if p.get("valid") else "; ".join(p.get("invalid_reasons") or []),
              output=f"target {p['target_rps']:g} RPS, achieved {p.get('achieved_rps')}")
        for r in results.get(pid, []):
            text = r.sentence or f"{r.name}: {r.verdict}"
            _case(suite, r.name, f"{run_id}.{pid}",
                  failure=text if r.verdict == "FAIL" else None,
                  skipped=text if r.verdict == "INSUFFICIENT" else None, output=text)
    for suite in root.iter("testsuite"):
        cases = list(suite.iter("testcase"))
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
        suite.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
