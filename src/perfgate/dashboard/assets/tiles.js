// perfgate dashboard: the tiles, each a pure function of the client state S.
// Sources: S.snap (the controller's snapshot; snap.extras = what guards, telemetry, cost
// and chaos put there), S.spec (the plan's criteria, triggers, budget), S.latest (the
// newest stored sample per series) and S.events (stored events).
"use strict";
(function (PG) {
  const $ = (id) => document.getElementById(id);
  const NM = PG.NM;
  const ex = (S) => (S.snap && S.snap.extras) || {};
  const sample = (S, name, match) => {
    let best = null;
    for (const s of Object.values(S.latest)) {
      if (s.name !== name) continue;
      if (match && !Object.entries(match).every(([k, v]) => s.labels && s.labels[k] === v)) continue;
      if (!best || s.t > best.t) best = s;
    }
    return best;
  };
  const tele = (S, name) => {
    const vals = ((ex(S).telemetry || {}).values) || {};
    if (PG.num(vals[name]) !== null) return PG.num(vals[name]);
    const s = sample(S, name);
    return s ? s.v : null;
  };

  function plateau(S) {
    const s = S.snap;
    if (!s) return;
    const p = S.plateaus.find((x) => x.id === s.phase_id);
    $("plateau-name").textContent = s.phase_id ? `${s.phase_id} · ${s.phase_name}` : s.phase_name;
    $("plateau-left").textContent = s.phase_id ? PG.dur(s.phase_remaining_s) : "–";
    const n = S.plateaus.filter((x) => x.id !== "p0").length;
    $("plateau-elapsed").textContent = s.phase_id
      ? `${PG.dur(s.phase_elapsed_s)} of ${PG.dur(p ? p.end_s - p.start_s : null)} held` +
        (p && p.id !== "p0" ? ` · plateau ${p.idx} of ${n}` : " · warm-up (excluded)")
      : "";
    $("plateau-list").innerHTML = S.plateaus.map((x) => {
      const cls = [x.status || "", x.verdict || ""].join(" ");
      const title = `${x.name}: ${x.target_rps} RPS, ${x.status || "pending"}${x.verdict ? ", " + x.verdict : ""}`;
      return `<li class="${PG.esc(cls)}" title="${PG.esc(title)}">${PG.esc(x.id)} ${PG.esc(x.target_rps)}</li>`;
    }).join("");
  }

  function load(S) {
    const s = S.snap;
    if (!s) return;
    $("rps-target").textContent = PG.fixed(s.target_rps, 1);
    const ratio = s.target_rps > 0 ? s.achieved_rps / s.target_rps : null;
    const settling = s.phase_elapsed_s < 5;  // the 5 s average still holds the last phase
    const short = ratio !== null && ratio < 0.97 && !settling;
    const ach = $("rps-achieved");
    ach.textContent = PG.fixed(s.achieved_rps, 1);
    ach.className = "big mono " + (short ? "warn" : "");
    const g = S.gen || {};
    const dropRate = s.sent + s.dropped > 0 ? s.dropped / (s.sent + s.dropped) : null;
    PG.kv($("load-kv"), [
      ["achieved / target", ratio === null ? NM : PG.pct(ratio, 1) + (settling ? " (settling)" : ""), short ? "warn" : ""],
      ["sent", PG.int(s.sent)], ["completed", PG.int(s.completed)],
      ["dropped", s.sent + s.dropped > 0 ? `${PG.int(s.dropped)} (${PG.pct(dropRate)})` : NM, s.dropped ? "bad" : ""],
      ["in flight", PG.int(s.inflight)],
      ["generator loop lag p99", PG.ms(s.loop_lag_p99_ms), s.loop_lag_p99_ms > 10 ? "warn" : ""],
      ["generator CPU", PG.num(s.cpu_percent) === null ? NM : PG.fixed(s.cpu_percent, 0) + "%"],
      ["generator RSS", PG.bytes(g.rss)],
    ]);
  }

  function families(S) {
    const s = S.snap;
    const body = document.querySelector("#families tbody");
    if (!s) return;
    let fams = Object.values(s.families || {}), scope = s.phase_id;
    if (fams.length) S.lastFamilies = {phase: s.phase_id, fams};
    else if (s.done && S.lastFamilies) ({phase: scope, fams} = S.lastFamilies);
    $("fam-scope").textContent = scope ? `${scope}, merged ${s.done ? "(final)" : "so far"} · latency from the intended send time` : "";
    body.innerHTML = fams.length ? fams.map((f) => `<tr data-family="${PG.esc(f.family)}">
      <td>${PG.esc(f.family)}</td><td>${PG.int(f.requests)}</td><td>${PG.fixed(f.rps, 1)}</td>
      <td data-k="p50">${PG.ms(f.p50_ms)}</td><td data-k="p90">${PG.ms(f.p90_ms)}</td>
      <td data-k="p95">${PG.ms(f.p95_ms)}</td><td data-k="p99">${PG.ms(f.p99_ms)}</td>
      <td data-k="errors" class="${f.error_rate > 0.001 ? "bad" : ""}">${PG.pct(f.error_rate)} (${PG.int(f.errors)})</td></tr>`).join("")
      : `<tr><td colspan="8" class="nm">no completions in this phase yet</td></tr>`;
  }

  // extras.guards = {mode, criteria: {plateau: {name: verdict}}, triggers: {...}, ...}
  // (perfgate.guards); extras.guards.current = {name: {text|value, verdict}}, when given,
  // is the value so far on the running plateau.
  function criteria(S) {
    const body = document.querySelector("#criteria tbody");
    const specs = (S.spec && S.spec.criteria) || [];
    const guards = ex(S).guards;
    const judged = (guards && guards.criteria) || {};
    const current = (guards && guards.current) || null;
    const cols = S.plateaus.filter((p) => p.id !== "p0").map((p) => p.id);
    const names = specs.length ? specs.map((c) => c.name) : [...new Set(Object.values(judged).flatMap(Object.keys))];
    $("crit-scope").textContent = guards ? `each judged on its plateau's merged data at the plateau's end · ${guards.mode || ""}`
      : (names.length ? "guards not running: not measured" : "");
    if (!names.length) {
      body.innerHTML = `<tr><td class="nm">${S.spec && S.spec.loaded ? "the plan has no pass criteria" : NM}</td></tr>`;
      return;
    }
    const head = `<tr><th>criterion</th><th>threshold</th>${current ? "<th>so far</th>" : ""}${cols.map((c) => `<th>${PG.esc(c)}</th>`).join("")}</tr>`;
    body.innerHTML = head + names.map((name) => {
      const c = specs.find((x) => x.name === name) || {name};
      const cur = current && current[name];
      const now = current ? `<td class="${cur ? "" : "nm"}">${PG.esc(cur ? (cur.text || PG.fixed(cur.value, 3)) : NM)}</td>` : "";
      const cells = cols.map((p) => {
        const v = (judged[p] || {})[name];
        if (v) return `<td>${PG.badge(v)}</td>`;
        return `<td>${guards && S.snap && S.snap.phase_id === p ? PG.badge("judging", "judging") : ""}</td>`;
      }).join("");
      return `<tr><td class="name">${PG.esc(c.name)}${c.family ? ` <span class="muted">[${PG.esc(c.family)}]</span>` : ""}</td>
        <td>${PG.esc(c.what || "")}</td>${now}${cells}</tr>`;
    }).join("");
  }

  // a trigger's value in its signal's unit (perfgate.guards.units): ratios as %, money as $
  function signalValue(signal, v) {
    if (/(_rate|_ratio)$/.test(signal) && signal !== "provider_requests_rate") return PG.pct(v, 2);
    if (/_usd$/.test(signal)) return PG.usd(v, 2);
    if (/_percent$/.test(signal)) return PG.fixed(v, 1) + "%";
    if (/_seconds$/.test(signal)) return PG.ms(1000 * v);
    if (/_bytes$/.test(signal)) return PG.bytes(v);
    if (signal === "provider_blocked") return v ? "blocked" : "not blocked";
    return PG.fixed(v, Math.abs(v) >= 100 || Number.isInteger(v) ? 0 : 3);
  }

  function triggers(S) {
    const body = document.querySelector("#triggers tbody");
    const specs = (S.spec && S.spec.triggers) || [];
    const guards = ex(S).guards;
    const states = (guards && guards.triggers) || {};
    const names = [...new Set([...specs.map((t) => t.name), ...Object.keys(states)])];
    $("trig-scope").textContent = !names.length ? "" : !guards ? "guards not running: not measured"
      : guards.mode === "observe" ? "observe mode: judged, never stops the run"
      : "each must hold for its whole for: to fire";
    if (!names.length) {
      body.innerHTML = `<tr><td class="nm">${S.spec ? "the plan has no abort triggers" : NM}</td></tr>`;
      return;
    }
    const t = S.snap ? S.snap.t : 0;
    body.innerHTML = names.map((name) => {
      const spec = specs.find((x) => x.name === name) || {};
      const st = states[name];
      let badge = PG.badge(guards ? "not evaluated" : NM, "idle"), detail = "";
      if (st && st.state === "inactive") badge = PG.badge("armed");
      if (st && st.state === "pending") {
        const held = Math.max(0, t - (st.since || t));
        badge = PG.badge("breaching");
        detail = `${held.toFixed(0)} s of ${PG.fixed(st.for_s, 0)} s<div class="bar"><div style="width:${Math.min(100, 100 * held / (st.for_s || 1)).toFixed(0)}%"></div></div>`;
      }
      if (st && st.state === "firing") badge = PG.badge("fired");
      const value = st && PG.num(st.value) !== null ? signalValue(spec.signal || "", PG.num(st.value)) : NM;
      return `<tr><td class="name">${PG.esc(name)}<div class="small muted">${PG.esc(spec.what || "")}</div></td>
        <td class="${value === NM ? "nm" : ""}">${PG.esc(value)}</td><td>${badge}</td><td>${detail}</td></tr>`;
    }).join("");
  }

  function spend(S) {
    const c = ex(S).cost;
    const b = (S.spec && S.spec.budget) || {};
    const hard = PG.num(c && c.cap_usd) ?? PG.num(b.hard_cap_usd);
    const soft = PG.num(b.soft_alert_usd);
    const spent = c ? PG.num(c.spend_usd) : null;
    $("spend-now").textContent = spent === null ? NM : PG.usd(spent);
    $("spend-now").className = "big mono" + (spent === null ? " nm" : "");
    const meter = $("spend-meter");
    const fill = meter.querySelector(".fill");
    fill.style.width = hard && spent !== null ? Math.min(100, 100 * spent / hard) + "%" : "0";
    fill.style.background = spent !== null && soft !== null && spent >= soft ? "var(--warn)" : "var(--ok)";
    meter.querySelectorAll(".mark").forEach((m) => m.remove());
    if (hard && soft) meter.insertAdjacentHTML("beforeend", `<div class="mark" style="left:${100 * soft / hard}%" title="soft alert"></div>`);
    if (hard) meter.insertAdjacentHTML("beforeend", `<div class="mark hard" style="left:calc(100% - 2px)" title="hard cap"></div>`);
    PG.kv($("spend-kv"), [
      ["soft alert", soft === null ? NM : PG.usd(soft)], ["hard cap", hard === null ? NM : PG.usd(hard)],
      ["reserved (in flight)", c ? PG.usd(c.reserved_usd) : NM],
      ["$ / 1k requests", c ? PG.usd(c.usd_per_1k_requests, 4) : NM],
      ["$ / AI call", c ? PG.usd(c.usd_per_ai_call, 5) : NM],
      ["AI calls", c ? PG.int(c.ai_calls) : NM],
      ["billed to users", c ? PG.usd(c.billed_usd) : NM],
      ["refused by the cap", c ? PG.int(c.refused) : NM, c && c.refused ? "bad" : ""],
    ]);
  }

  function provider(S) {
    const p = ex(S).provider || {};
    const rate = (match) => {
      const vals = Object.values(S.latest).filter((s) => s.name === "provider_requests_rate" &&
        Object.entries(match).every(([k, v]) => s.labels && s.labels[k] === v));
      return vals.length ? 60 * vals.reduce((a, s) => a + s.v, 0) : null;
    };
    const of = (v, limit) => (PG.num(v) === null ? NM : PG.int(v) + (PG.num(limit) !== null ? ` / ${PG.int(limit)}` : " (limit unknown)"));
    const rpm = PG.num(p.rpm) ?? rate({});
    const limited = PG.num(p.http_429) ?? ((rate({outcome: "rate_limited"}) ?? 0) + (rate({outcome: "quota"}) ?? 0) || (rate({}) === null ? null : 0));
    const breaker = p.breaker_state ?? tele(S, "breaker_state");
    const bname = {0: "closed", 1: "half-open", 2: "open"}[breaker] ?? (breaker === null || breaker === undefined ? NM : String(breaker));
    PG.kv($("provider-kv"), [
      ["requests / min vs limit", of(rpm, p.rpm_limit), PG.num(p.rpm_limit) && rpm > 0.9 * p.rpm_limit ? "warn" : ""],
      ["tokens / min vs limit", of(p.tpm, p.tpm_limit), PG.num(p.tpm_limit) && p.tpm > 0.9 * p.tpm_limit ? "warn" : ""],
      [PG.num(p.http_429) !== null ? "429s" : "429s (rate-limited + quota) / min", PG.num(limited) === null ? NM : PG.int(limited), limited > 0 ? "bad" : ""],
      ["failovers to secondary", PG.num(p.failovers) !== null ? PG.int(p.failovers) : (rate({key: "secondary"}) === null ? NM : PG.int(rate({key: "secondary"})) + " / min")],
      ["circuit breaker", bname, bname === "open" ? "bad" : bname === "half-open" ? "warn" : bname === "closed" ? "ok" : ""],
    ]);
  }

  function system(S) {
    const cpu = tele(S, "cpu_percent"), inUse = tele(S, "db_pool_in_use"), size = tele(S, "db_pool_size");
    const gaps = ((ex(S).telemetry || {}).gaps) || [];
    const free = PG.num(size) ? 1 - inUse / size : tele(S, "db_pool_free_ratio");
    PG.kv($("system-kv"), [
      ["CPU", cpu === null ? NM : PG.fixed(cpu, 0) + "%", cpu > 80 ? "bad" : cpu > 70 ? "warn" : ""],
      ["RSS", PG.bytes(tele(S, "rss_bytes"))],
      ["DB pool in use", inUse === null ? NM : `${PG.int(inUse)}${size !== null ? " / " + PG.int(size) : ""}`],
      ["DB pool free", free === null ? NM : PG.pct(free, 0), free !== null && free < 0.1 ? "bad" : free !== null && free < 0.2 ? "warn" : ""],
      ["DB query p95", tele(S, "db_query_p95_seconds") === null ? NM : PG.ms(1000 * tele(S, "db_query_p95_seconds"))],
      ["queue depth", PG.int(tele(S, "queue_depth"))],
      ["queue oldest age", tele(S, "queue_oldest_age_seconds") === null ? NM : PG.fixed(tele(S, "queue_oldest_age_seconds"), 1) + " s"],
      ["telemetry gaps", gaps.length ? gaps.join(", ") : (ex(S).telemetry ? "none" : NM), gaps.length ? "warn" : ""],
    ]);
  }

  // extras.chaos = {active: [names], faults: [{name, kind, loss, plateau, planned_start_s,
  // planned_end_s, applied_at_s, reverted_at_s, status, verified, error}]} (perfgate.chaos)
  function chaos(S) {
    const c = ex(S).chaos, t = S.snap ? S.snap.t : 0;
    const faults = (c && Array.isArray(c.faults)) ? c.faults : [];
    if (faults.length) {
      const rows = [];
      for (const f of faults) {
        const st = f.status || "?";
        const cls = st === "applied" || st === "applying" ? "warn" : st === "reverted" && f.verified !== false ? "ok" : st === "failed" || f.error ? "bad" : "";
        const when = PG.num(f.applied_at_s) === null
          ? `${PG.dur(f.planned_start_s)}–${PG.dur(f.planned_end_s)}` + (t < f.planned_start_s ? ` (in ${PG.dur(f.planned_start_s - t)})` : "")
          : `${PG.dur(f.applied_at_s)}–${PG.num(f.reverted_at_s) === null ? (t < f.planned_end_s ? `${PG.dur(f.planned_end_s)} (${PG.dur(f.planned_end_s - t)} left)` : "…") : PG.dur(f.reverted_at_s)}`;
        rows.push([f.name || "fault", st + (f.verified === true ? " ✓" : ""), cls]);
        rows.push(["  what", `${f.kind || "?"}${PG.num(f.loss) !== null ? ", " + PG.pct(f.loss, 0) + " loss" : ""}${f.plateau ? " at " + f.plateau : ""}`]);
        rows.push(["  window", when]);
        if (f.error) rows.push(["  error", String(f.error).slice(0, 80), "bad"]);
      }
      PG.kv($("chaos-kv"), rows);
      return;
    }
    const starts = S.events.filter((e) => e.kind === "chaos_start");
    const ends = S.events.filter((e) => e.kind === "chaos_end" || e.kind === "chaos_revert");
    if (starts.length) {
      const open = starts.length > ends.length;
      PG.kv($("chaos-kv"), [["state", open ? "active" : "reverted", open ? "warn" : "ok"],
        ["started", PG.dur(starts[starts.length - 1].t)], ["ended", open ? "–" : PG.dur(ends[ends.length - 1].t)],
        ["detail", starts[starts.length - 1].message]]);
    } else {
      PG.kv($("chaos-kv"), [["state", S.spec && S.spec.loaded && !S.spec.chaos ? "no chaos probe in this plan" : NM]]);
    }
  }

  function events(S) {
    $("events").innerHTML = S.events.slice(-60).reverse().map((e) =>
      `<li class="${PG.esc(e.severity)}"><span class="mono">${PG.dur(e.t)}</span><span>${PG.esc(e.kind)}</span><span>${PG.esc(e.message)}</span></li>`).join("");
  }

  PG.tiles = {render(S) { for (const f of [plateau, load, families, criteria, triggers, spend, provider, system, chaos, events]) f(S); }};
})(window.PG);
