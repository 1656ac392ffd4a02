"""The war-room proof in a real browser (headless Chromium over the DevTools protocol):
a live ``perfgate run`` whose page updates every second with the store's numbers, an
abort from the page that stops the run with exit code 2 and records who and why, and a
non-loopback bind that answers 401 without the token.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from perfgate.metrics.histogram import percentiles_ms
from perfgate.metrics.window import RECORD_FIELDS, Cell

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCREENSHOT = Path("/tmp/perfgate-dashboard-midrun.png")

READ_PAGE = """(() => {
  const fam = {};
  for (const tr of document.querySelectorAll('#families tbody tr[data-family]')) {
    fam[tr.dataset.family] = {
      requests: tr.children[1].textContent,
      p95: tr.querySelector('[data-k=p95]').textContent};
  }
  const trace = (key) => PG.charts.divs().flatMap(d => d.data).find(t => t.meta === key);
  const ach = trace('rps.achieved'), p95 = trace('latency.core.p95');
  return {t: Number(document.body.dataset.t), phase: PG.state.snap && PG.state.snap.phase_id,
          clock: document.getElementById('run-clock').textContent,
          left: document.getElementById('plateau-left').textContent,
          sent: document.querySelector('#load-kv dd[data-k=sent]').textContent,
          fam, state: document.body.dataset.state,
          charts: Number(document.body.dataset.charts || 0),
          points: ach ? ach.x.length : 0, p95points: p95 ? p95.x.length : 0};
})()"""


def _ms(v: float | None) -> str:  # the page's PG.ms
    return "not measured" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}") + " ms"


def store_view(run_dir: Path, before_second: int, plateau: str | None) -> dict[str, Any]:
    """What the page must show for a snapshot taken when seconds < ``before_second`` had
    closed: total sends, and the plateau's per-family completions and P95."""
    db = sqlite3.connect(f"{(run_dir / 'run.sqlite').as_uri()}?mode=ro", uri=True)
    try:
        sent = db.execute("SELECT COALESCE(SUM(sent), 0) FROM windows WHERE second < ?",
                          (before_second,)).fetchone()[0]
        cells: dict[str, Cell] = {}
        rows = db.execute(f"SELECT family, {', '.join(RECORD_FIELDS)} FROM windows "
                          "WHERE second < ? AND plateau = ?", (before_second, plateau))
        for family, *rec in rows:
            cells.setdefault(family, Cell()).merge(
                Cell.from_record(dict(zip(RECORD_FIELDS, rec, strict=True))))
    finally:
        db.close()
    return {"sent": f"{sent:,}", "fam": {
        f: {"requests": f"{c.completed:,}", "p95": _ms(percentiles_ms(c.latency)["p95"])}
        for f, c in cells.items() if c.completed}}


@pytest.mark.asyncio
async def test_live_page_tracks_the_store_every_second(make_toy_plan, tmp_path, browser,
                                                       cli_run) -> None:  # type: ignore[no-untyped-def]
    plan = make_toy_plan("live", plateaus=((40, 4.0), (60, 5.0)))
    run = await cli_run(plan, tmp_path / "runs", "--dashboard-bind", "127.0.0.1:0")
    page = await browser.new_page()
    await page.goto(run.link)
    run_dir = Path((await run.state())["run"]["run_dir"])
    await page.wait_for("Number(document.body.dataset.t) > 0 && PG.state.snap.sent > 0")
    seen: list[dict[str, Any]] = []
    for i in range(4):
        await asyncio.sleep(1.05)
        got = await page.eval(READ_PAGE)
        seen.append(got)
        want = store_view(run_dir, math.floor(got["t"]), got["phase"])
        assert got["sent"] == want["sent"], (got, want)
        assert got["fam"] == want["fam"], (got, want)
        if i == 1:
            await page.screenshot(SCREENSHOT)
    # a new snapshot each second: the clock and the countdown move every time
    for key in ("t", "clock", "left"):
        values = [s[key] for s in seen]
        assert all(b != a for a, b in itertools.pairwise(values)), (key, values)
    # the counts grow (a tick can close two seconds at once, so not strictly each time)
    sents = [int(s["sent"].replace(",", "")) for s in seen]
    assert sents == sorted(sents) and sents[-1] > sents[0], sents
    assert all(s["state"] == "live" for s in seen)
    # the report's charts, growing: load every second, latency once it has data
    assert seen[-1]["charts"] >= 5 and seen[-1]["points"] > seen[0]["points"] > 0, seen
    assert seen[-1]["p95points"] >= 3, seen
    # the end: the verdict and the report link, and the CLI exits with the verdict's code
    verdict = await page.wait_for(
        "!document.getElementById('end-banner').hidden && "
        "document.getElementById('end-verdict').textContent", timeout=30)
    assert await page.eval("document.getElementById('report-link').getAttribute('href')") \
        == "/report"
    # the server stays up while the page is open (a few seconds): the link serves the report
    report = await page.eval("fetch('/report').then(async r => [r.status, r.url, await r.text()])")
    assert report[0] == 200 and report[1].endswith("/run/report.html"), report[:2]
    assert run_dir.name in report[2]
    await page.goto("about:blank")  # nobody watching: the CLI exits at once
    code = await run.finish()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert verdict == summary["verdict"]  # PASS, or INVALID when this 2-core box lagged
    assert code == {"PASS": 0, "INVALID": 3}[verdict], "\n".join(run.lines)
    assert page.errors == []


@pytest.mark.asyncio
async def test_abort_from_the_page_and_token_on_non_loopback_bind(
        make_toy_plan, tmp_path, browser, cli_run) -> None:  # type: ignore[no-untyped-def]
    plan = make_toy_plan("abort", plateaus=((40, 30.0),))
    run = await cli_run(plan, tmp_path / "runs", "--dashboard-bind", "0.0.0.0:0")
    assert "?token=" in run.link
    token = run.link.split("?token=")[1]
    local = run.base.replace(run.base.split("//")[1].split(":")[0], "127.0.0.1", 1)
    # without the token: 401 for the page, the stream, the state and the abort
    async with aiohttp.ClientSession() as s:
        for method, path in (("GET", "/"), ("GET", "/events"), ("GET", "/api/state"),
                             ("POST", "/api/abort"), ("GET", "/assets/plotly.min.js")):
            async with s.request(method, local + path, json={"reason": "x", "confirm": True}) as r:
                assert r.status == 401, (method, path)
        async with s.get(local + "/", headers={"Authorization": "Bearer wrong"}) as r:
            assert r.status == 401
    page = await browser.new_page()
    await page.goto(local + "/")
    assert "token" in await page.eval("document.body.innerText")  # the 401 explains itself
    assert any("401" in e for e in page.errors)
    page.errors.clear()
    # with the token once in the URL: the page works and the cookie carries it after
    await page.goto(f"{local}/?token={token}")
    await page.wait_for("PG.state.snap && PG.state.snap.sent > 0")
    assert "token" not in await page.eval("location.href")
    run_dir = Path((await run.state(token))["run"]["run_dir"])
    # abort: a reason is required, then a confirmation step
    await page.eval("document.getElementById('abort-review').click()")
    assert await page.eval("document.getElementById('abort-confirm').hidden")
    assert "required" in await page.eval("document.getElementById('abort-result').textContent")
    await page.eval("""(() => {
      document.getElementById('abort-reason').value = 'p1 error budget burning, stop now';
      document.getElementById('abort-who').value = 'perf lead (dana)';
      document.getElementById('abort-review').click(); })()""")
    assert not await page.eval("document.getElementById('abort-confirm').hidden")
    await page.eval("document.getElementById('abort-yes').click()")
    verdict = await page.wait_for(
        "!document.getElementById('end-banner').hidden && "
        "document.getElementById('end-verdict').textContent", timeout=20)
    assert verdict == "ABORTED"
    assert "perf lead (dana)" in await page.eval("document.getElementById('events').innerText")
    errors = list(page.errors)
    await page.goto("about:blank")
    assert await run.finish() == 2, "\n".join(run.lines)
    db = sqlite3.connect(f"{(run_dir / 'run.sqlite').as_uri()}?mode=ro", uri=True)
    try:
        abort = json.loads(db.execute("SELECT value FROM meta WHERE key = 'abort'").fetchone()[0])
        dump = "\n".join(db.iterdump())
    finally:
        db.close()
    assert abort["kind"] == "perf_lead"
    assert abort["who"] == "perf lead (dana)"
    assert abort["message"] == "p1 error budget burning, stop now"
    assert token not in dump and token not in "\n".join(
        p.read_text(errors="replace") for p in run_dir.rglob("*") if p.is_file()
        and p.suffix in (".json", ".log", ".html", ".txt", ".hlog"))
    assert errors == []
