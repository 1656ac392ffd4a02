"""The report in a real browser (Debian's Chromium, headless, offline): no console errors,
no network, every chart drawn, and zooming one chart moves all the others.

Skips without Chromium, except in CI (CI=true), where a missing browser fails."""

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from perfgate.report.build import write_deliverables

pytestmark = pytest.mark.integration


async def _check(browser_page: Any, browser: str, html: Path, shot: Path) -> dict[str, Any]:
    async with browser_page(browser) as page:
        await page.open(html.resolve().as_uri())
        before = await page.eval(
            "window.pgReady.then(() => PerfgateCharts.status(window.pgCharts))")
        box = await page.eval("""(() => {
            const el = document.querySelector('#chart-load .nsewdrag');
            el.scrollIntoView({block: 'center'});
            const r = el.getBoundingClientRect();
            return {x: r.x, y: r.y, w: r.width, h: r.height};
        })()""")
        y = box["y"] + box["h"] / 2
        await page.drag(box["x"] + box["w"] * 0.30, box["x"] + box["w"] * 0.55, y)
        after = before
        for _ in range(50):  # relayouts are async: wait until every chart followed
            after = await page.eval("PerfgateCharts.status(window.pgCharts)")
            ranges = {tuple(round(v, 3) for v in c["range"]) for c in after}
            if len(ranges) == 1 and after[0]["range"] != before[0]["range"]:
                break
            await asyncio.sleep(0.1)
        await page.eval("window.scrollTo(0, 0)")
        await page.screenshot(shot)
        return {"before": before, "after": after, "errors": page.errors + await page.eval(
            "window.__pgErrors"), "requests": page.requests}


def test_report_in_a_real_browser(chromium: str, browser_page: Any, small_run: Path,
                                  tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    html = write_deliverables(run).html_path
    got = asyncio.run(_check(browser_page, chromium, html, tmp_path / "report.png"))
    assert got["errors"] == []
    offsite = [u for u in got["requests"] if not u.startswith(("file:", "data:", "blob:"))]
    assert offsite == []
    before, after = got["before"], got["after"]
    assert len(before) == 12 and all(c["rendered"] for c in before)
    full = before[0]["range"]
    assert all(c["range"] == full for c in before)
    zoomed = after[0]["range"]
    assert full[0] < zoomed[0] < zoomed[1] < full[1]  # the dragged chart zoomed in
    assert all(c["range"] == pytest.approx(zoomed) for c in after)  # and every other followed
    assert (tmp_path / "report.png").stat().st_size > 10_000
