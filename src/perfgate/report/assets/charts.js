/* perfgate chart layer (report and live dashboard). Needs plotly.js loaded first.
 *
 *   PerfgateCharts.mount(container, figures) -> Promise<div[]>
 *       one <div class="pg-chart" id="chart-ID" data-chart="ID"> per figure ({id, data, layout}),
 *       zoom synced across all of them.
 *   PerfgateCharts.sync(divs)           sync the x range of these charts (zoom one, all move)
 *   PerfgateCharts.extend(divs, points, maxPoints)
 *       live growth: points = {traceKey: {x: [...], y: [...]}}; every trace whose `meta`
 *       is traceKey, on any chart, gets the points appended (Plotly.extendTraces).
 *   PerfgateCharts.addShapes(divs, shapes)   e.g. a new warning marker or plateau band
 *   PerfgateCharts.setRange(divs, [x0, x1]) PerfgateCharts.status(divs) -> [{id, rendered, range}]
 */
(function (global) {
  "use strict";

  var EPS = 1e-6;

  function near(a, b) {
    return !!a && !!b && Math.abs(a[0] - b[0]) < EPS && Math.abs(a[1] - b[1]) < EPS;
  }

  function rangeFromEvent(ev, div) {
    if (!ev) return null;
    if (ev["xaxis.range[0]"] !== undefined && ev["xaxis.range[1]"] !== undefined) {
      return [Number(ev["xaxis.range[0]"]), Number(ev["xaxis.range[1]"])];
    }
    if (Array.isArray(ev["xaxis.range"])) {
      return [Number(ev["xaxis.range"][0]), Number(ev["xaxis.range"][1])];
    }
    if (ev["xaxis.autorange"] === true) {
      return div._pgFullRange ? div._pgFullRange.slice() : null;
    }
    return null;
  }

  function sync(divs) {
    var state = { range: null };
    divs.forEach(function (div) {
      var r = div.layout && div.layout.xaxis && div.layout.xaxis.range;
      div._pgFullRange = r ? [Number(r[0]), Number(r[1])] : null;
      div.on("plotly_relayout", function (ev) {
        var r = rangeFromEvent(ev, div);
        if (!r || near(r, state.range)) return;
        state.range = r;
        divs.forEach(function (other) {
          if (other === div) return;
          var cur = other.layout.xaxis.range;
          if (!near([Number(cur[0]), Number(cur[1])], r)) {
            global.Plotly.relayout(other, { "xaxis.range": r.slice() });
          }
        });
      });
    });
    return divs;
  }

  function mount(container, figures) {
    var config = { responsive: true, displaylogo: false, scrollZoom: false,
                   modeBarButtonsToRemove: ["select2d", "lasso2d"] };
    var divs = figures.map(function (fig) {
      var div = document.createElement("div");
      div.className = "pg-chart";
      div.id = "chart-" + fig.id;
      if (fig.layout && fig.layout.height) div.style.height = fig.layout.height + "px";
      div.setAttribute("data-chart", fig.id);
      container.appendChild(div);
      return div;
    });
    return Promise.all(divs.map(function (div, i) {
      return global.Plotly.newPlot(div, figures[i].data, figures[i].layout, config);
    })).then(function () { return sync(divs); });
  }

  function extend(divs, points, maxPoints) {
    divs.forEach(function (div) {
      var xs = [], ys = [], idx = [];
      (div.data || []).forEach(function (trace, i) {
        var p = points[trace.meta];
        if (p && p.x && p.x.length) { xs.push(p.x); ys.push(p.y); idx.push(i); }
      });
      if (idx.length) {
        global.Plotly.extendTraces(div, { x: xs, y: ys }, idx, maxPoints);
      }
    });
  }

  function addShapes(divs, shapes) {
    divs.forEach(function (div) {
      var all = (div.layout.shapes || []).concat(shapes);
      global.Plotly.relayout(div, { shapes: all });
    });
  }

  function setRange(divs, range) {
    divs.forEach(function (div) {
      global.Plotly.relayout(div, { "xaxis.range": range.slice() });
    });
  }

  function status(divs) {
    return divs.map(function (div) {
      var r = div.layout && div.layout.xaxis && div.layout.xaxis.range;
      return { id: div.getAttribute("data-chart"),
               rendered: !!div.querySelector(".main-svg") && !!div._fullLayout,
               traces: (div.data || []).length,
               range: r ? [Number(r[0]), Number(r[1])] : null };
    });
  }

  global.PerfgateCharts = { mount: mount, sync: sync, extend: extend,
                            addShapes: addShapes, setRange: setRange, status: status };
})(window);
