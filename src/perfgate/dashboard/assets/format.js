// perfgate dashboard: number formatting. A missing value is "not measured", never a 0.
"use strict";
window.PG = window.PG || {};
(function (PG) {
  const NM = "not measured";
  const isNum = (v) => typeof v === "number" && isFinite(v);
  const num = (v) => (isNum(v) ? v : (typeof v === "string" && v.trim() !== "" && isFinite(+v) ? +v : null));
  PG.NM = NM;
  PG.num = num;
  PG.esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  PG.fixed = (v, d) => { v = num(v); return v === null ? NM : v.toLocaleString("en-US", {minimumFractionDigits: d, maximumFractionDigits: d}); };
  PG.int = (v) => { v = num(v); return v === null ? NM : Math.round(v).toLocaleString("en-US"); };
  PG.ms = (v) => { v = num(v); return v === null ? NM : (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " ms"; };
  PG.pct = (ratio, d) => { ratio = num(ratio); return ratio === null ? NM : (100 * ratio).toFixed(d === undefined ? 2 : d) + "%"; };
  PG.usd = (v, d) => { v = num(v); return v === null ? NM : "$" + v.toLocaleString("en-US", {minimumFractionDigits: d === undefined ? 2 : d, maximumFractionDigits: d === undefined ? 2 : d}); };
  PG.bytes = (v) => {
    v = num(v); if (v === null) return NM;
    const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return v.toFixed(i ? 1 : 0) + " " + u[i];
  };
  PG.dur = (s) => {
    s = num(s); if (s === null) return NM;
    s = Math.max(0, Math.round(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(sec).padStart(2, "0");
  };
  // A key/value list: rows of [label, text, cls?]; text PG.NM renders muted.
  PG.kv = (el, rows) => {
    el.innerHTML = rows.map(([k, v, cls]) => {
      const nm = v === NM || v === undefined || v === null;
      const slug = String(k).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
      return `<dt>${PG.esc(k)}</dt><dd data-k="${slug}" class="${nm ? "nm" : PG.esc(cls || "")}">${PG.esc(nm ? NM : v)}</dd>`;
    }).join("");
  };
  PG.badge = (text, cls) => `<span class="badge ${PG.esc(cls || text)}">${PG.esc(text)}</span>`;
})(window.PG);
