// perfgate dashboard: the report's charts (PerfgateCharts, /assets/report-charts.js),
// mounted from /api/charts and grown every tick from the points the server derives from
// the new store rows. A point at or before a trace's last x is already drawn (the
// figures and the stream overlap by design) and is skipped, so nothing is drawn twice.
"use strict";
(function (PG) {
  const MAX_POINTS = 20000;
  const C = {divs: [], mounted: false, loading: false, lastLoad: 0, pending: []};
  const DARK = {paper: "#171e26", grid: "#263240", text: "#c9d1d9"};

  function darken(fig) {
    const l = fig.layout;
    l.paper_bgcolor = DARK.paper; l.plot_bgcolor = DARK.paper;
    l.font = Object.assign({}, l.font, {color: DARK.text});
    for (const ax of ["xaxis", "yaxis", "yaxis2"]) {
      if (l[ax]) Object.assign(l[ax], {gridcolor: DARK.grid, zerolinecolor: DARK.grid, linecolor: DARK.grid});
    }
    if (l.legend) l.legend.bgcolor = "rgba(0,0,0,0)";
    l.hoverlabel = {bgcolor: "#0b0f14", font: {color: DARK.text}};
    return fig;
  }

  async function load() {
    if (C.loading || !window.PerfgateCharts) return;
    C.loading = true; C.lastLoad = Date.now();
    try {
      const r = await fetch("/api/charts", {credentials: "same-origin"});
      if (!r.ok) return;
      const d = await r.json();
      if (!d.figures.length) return;
      const box = document.getElementById("charts");
      C.divs.forEach((div) => Plotly.purge(div));
      box.innerHTML = "";
      C.divs = await PerfgateCharts.mount(box, d.figures.map(darken));
      C.mounted = true;
      document.body.dataset.charts = String(C.divs.length);
      const pending = C.pending; C.pending = [];
      pending.forEach(apply);
    } catch (e) {
      console.warn("charts not loaded", e);
    } finally { C.loading = false; }
  }

  function lastX(key) {
    let found = false, last = -Infinity;
    for (const div of C.divs) for (const tr of div.data || []) {
      if (tr.meta !== key) continue;
      found = true;
      if (tr.x && tr.x.length) last = Math.max(last, tr.x[tr.x.length - 1]);
    }
    return found ? last : undefined;
  }

  const shapeKey = (s) => [s.type, s.name, s.x0, s.x1, s.y0, s.y1].join("|");
  const noteKey = (a) => [a.text, a.x, a.y].join("|");

  function apply(charts) {
    const points = {};
    let missing = false;
    for (const [key, p] of Object.entries(charts.points || {})) {
      const last = lastX(key);
      if (last === undefined) { missing = true; continue; }
      const keep = p.x.map((_, i) => i).filter((i) => p.x[i] > last);
      if (keep.length) points[key] = {x: keep.map((i) => p.x[i]), y: keep.map((i) => p.y[i])};
    }
    PerfgateCharts.extend(C.divs, points, MAX_POINTS);
    for (const div of C.divs) {
      const have = new Set((div.layout.shapes || []).map(shapeKey));
      const shapes = (charts.shapes || []).filter((s) => !have.has(shapeKey(s)));
      const notesHave = new Set((div.layout.annotations || []).map(noteKey));
      const notes = (charts.annotations || []).filter((a) => !notesHave.has(noteKey(a)));
      if (shapes.length || notes.length) {
        Plotly.relayout(div, {shapes: (div.layout.shapes || []).concat(shapes),
          annotations: (div.layout.annotations || []).concat(notes)});
      }
    }
    // a series that had no trace when the figures were built (first telemetry, first
    // AI call): rebuild the figures from the store, at most every 2 s
    if (missing && Date.now() - C.lastLoad > 2000) load();
  }

  PG.charts = {
    extend(d) {
      if (!C.mounted) {
        if (d.charts) C.pending.push(d.charts);
        if (Date.now() - C.lastLoad > 2000) load();
        return;
      }
      if (d.charts) apply(d.charts);
    },
    divs: () => C.divs,
  };
})(window.PG);
