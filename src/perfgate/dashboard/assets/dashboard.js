// perfgate dashboard: the SSE stream, the client state, the header, the verdict, the abort.
// Every tick carries the controller's snapshot and the store rows committed since the
// last event id; a reconnect resumes from that id (the server catches up from the store).
"use strict";
(function (PG) {
  const $ = (id) => document.getElementById(id);
  const S = {run: null, spec: null, snap: null, plateaus: [], latest: {}, events: [], gen: null,
    end: null, lastTick: 0, cursor: "", source: null};
  PG.state = S;

  // Strip ?token= from the address bar: the cookie now carries it, screenshots must not.
  if (location.search.includes("token=")) history.replaceState(null, "", location.pathname);

  async function loadState() {
    try {
      const r = await fetch("/api/state", {credentials: "same-origin"});
      if (!r.ok) return;
      const d = await r.json();
      S.run = d.run; S.spec = d.spec || S.spec;
      if (d.end) S.end = d.end;
      header();
    } catch (e) { /* the stream's own retry covers a server that is gone */ }
  }

  function header() {
    const r = S.run;
    if (r) {
      $("run-plan").textContent = r.plan;
      $("run-id").textContent = r.run_id;
      $("run-target").textContent = "→ " + r.target + (r.time_scale !== 1 ? ` · time ×${r.time_scale}` : "");
      document.title = `perfgate · ${r.run_id}`;
    }
    const s = S.snap, total = s ? s.total_s : r ? r.total_s : 0;
    if (s) {
      $("run-clock").textContent = `${PG.dur(s.t)} / ${PG.dur(total)}`;
      $("progress-bar").style.width = total ? Math.min(100, 100 * s.t / total) + "%" : "0";
      document.body.dataset.t = String(s.t);
    }
    $("progress-bands").innerHTML = total ? S.plateaus.map((p) =>
      `<span style="left:${100 * p.start_s / total}%" title="${PG.esc(p.id)}"></span>`).join("") : "";
  }

  function freshness() {
    const el = $("freshness");
    if (S.end) { el.textContent = "run over"; el.className = "small muted"; return; }
    if (!S.lastTick) return;
    const age = (Date.now() - S.lastTick) / 1000;
    el.textContent = age < 2.5 ? "" : `no update for ${age.toFixed(0)} s`;
    el.className = "small " + (age >= 3 ? "stale" : "muted");
    if (age >= 3 && document.body.dataset.state === "live") setState("stale");
  }

  function setState(state, text) {
    document.body.dataset.state = state;
    $("status-pill").textContent = text || state;
  }

  function apply(d, id) {
    if (d.snapshot) S.snap = d.snapshot;
    if (d.plateaus && d.plateaus.length) S.plateaus = d.plateaus;
    for (const s of d.samples) S.latest[`${s.src}|${s.name}|${JSON.stringify(s.labels || {})}`] = s;
    for (const e of d.events) if (!S.events.length || e.id > S.events[S.events.length - 1].id) S.events.push(e);
    if (S.events.length > 500) S.events.splice(0, S.events.length - 500);
    if (d.generator.length) S.gen = d.generator[d.generator.length - 1];
    if (id) { S.cursor = id; document.body.dataset.cursor = id; }
    if (PG.charts) PG.charts.extend(d, S);
    render();
  }

  function render() {
    header();
    PG.tiles.render(S);
    if (S.end) showEnd();
  }

  function showEnd() {
    const e = S.end, banner = $("end-banner");
    banner.hidden = false;
    banner.className = e.verdict || "";
    $("end-verdict").textContent = e.verdict || "ended";
    $("end-reason").textContent = (e.reason ? e.reason + " · " : "") + `exit code ${e.exit_code}`;
    $("end-links").innerHTML = `<a id="report-link" href="${PG.esc(e.report_url)}" target="_blank" rel="noopener">Open the report</a>` +
      `<span class="small muted">${PG.esc(e.report_path)}</span>`;
    setState("ended", e.verdict || "ended");
    $("abort-review").disabled = true;
  }

  function connect() {
    const es = new EventSource("/events");
    S.source = es;
    es.addEventListener("open", () => setState("live", "live"));
    es.addEventListener("tick", (ev) => {
      S.lastTick = Date.now();
      if (document.body.dataset.state !== "live") setState("live", "live");
      apply(JSON.parse(ev.data), ev.lastEventId);
      if (!S.spec || !S.spec.loaded) loadState();
    });
    es.addEventListener("end", (ev) => {
      S.end = JSON.parse(ev.data);
      render();  // the stream stays open: it keeps the server up a few seconds for the report
    });
    es.addEventListener("error", () => {
      if (S.end) {  // the server stopped after the run: the page keeps what it has
        es.close();
        $("report-link").removeAttribute("href");
        $("report-link").textContent = "Report (the dashboard server has stopped; open the file):";
        return;
      }
      setState("reconnecting", es.readyState === EventSource.CLOSED ? "disconnected" : "reconnecting");
      if (es.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    });
  }

  // The abort: reason required, then an explicit confirmation, then the same path as
  // `perfgate abort` (the controller stops the run within a second, exit code 2).
  function abortControl() {
    const form = $("abort-form"), confirm = $("abort-confirm"), result = $("abort-result");
    const who = $("abort-who");
    who.value = localStorage.getItem("perfgate.who") || "";
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const reason = $("abort-reason").value.trim();
      if (!reason) { result.textContent = "A reason is required."; $("abort-reason").focus(); return; }
      $("abort-confirm-text").textContent = `Stop all load on ${S.run ? S.run.target : "the target"} now? ` +
        `The run ends ABORTED (exit code 2), recorded as by "${who.value.trim() || "dashboard"}": ${reason}`;
      form.hidden = true; confirm.hidden = false; result.textContent = "";
    });
    $("abort-no").addEventListener("click", () => { form.hidden = false; confirm.hidden = true; });
    $("abort-yes").addEventListener("click", async () => {
      $("abort-yes").disabled = true;
      localStorage.setItem("perfgate.who", who.value.trim());
      try {
        const r = await fetch("/api/abort", {method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json"},
          body: JSON.stringify({reason: $("abort-reason").value.trim(), who: who.value.trim(), confirm: true})});
        const d = await r.json();
        result.textContent = r.ok ? `Abort requested by ${d.who}; the run stops within a second.` : `Refused: ${d.error}`;
      } catch (e) {
        result.textContent = "The dashboard server did not answer; use `perfgate abort RUN_DIR --reason ...`.";
      }
      confirm.hidden = true; form.hidden = false; $("abort-yes").disabled = false;
    });
  }

  loadState();
  abortControl();
  connect();
  setInterval(freshness, 500);
})(window.PG);
