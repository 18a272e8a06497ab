/* jiuzhu statistics: draw each chart of the page with the vendored ECharts.
 *
 * A chart is an element with data-chart="<id of a JSON script block>"; the block
 * (written by Django's json_script) holds
 *   {"kind": "bar" | "stacked" | "pie" | "line", "horizontal": bool,
 *    "categories": [...], "series": [{"name": ..., "data": [...]}], "colors": [...]}.
 * The same figures are in the table beside each chart, so nothing is lost without
 * JavaScript; the chart element is hidden from screen readers' tab order and labelled. */
(function () {
  "use strict";

  function axisLabel() {
    return { interval: 0, hideOverlap: true, width: 90, overflow: "truncate" };
  }

  function option(spec) {
    var series = spec.series || [];
    var base = { tooltip: { trigger: spec.kind === "pie" ? "item" : "axis", confine: true },
                 animation: false };
    if (spec.colors && spec.colors.length) { base.color = spec.colors; }
    if (series.length > 1 || spec.kind === "pie") {
      base.legend = { type: "scroll", bottom: 0 };
    }
    if (spec.kind === "pie") {
      var data = (spec.categories || []).map(function (name, i) {
        return { name: name, value: series[0] ? series[0].data[i] : 0 };
      });
      base.series = [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"],
                       data: data, label: { formatter: "{b}: {c}" } }];
      return base;
    }
    var categoryAxis = { type: "category", data: spec.categories || [], axisLabel: axisLabel() };
    var valueAxis = { type: "value", minInterval: 1 };
    base.grid = { left: 8, right: 16, top: 16, bottom: series.length > 1 ? 40 : 8,
                  containLabel: true };
    if (spec.horizontal) {
      base.xAxis = valueAxis;
      base.yAxis = Object.assign({}, categoryAxis, { inverse: true });
    } else {
      base.xAxis = categoryAxis;
      base.yAxis = valueAxis;
    }
    base.series = series.map(function (s) {
      return {
        name: s.name,
        type: spec.kind === "line" ? "line" : "bar",
        stack: spec.kind === "stacked" ? "total" : undefined,
        data: s.data,
        emphasis: { focus: "series" }
      };
    });
    return base;
  }

  function draw() {
    if (typeof window.echarts === "undefined") { return; }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var block = document.getElementById(el.getAttribute("data-chart"));
      if (!block) { return; }
      var spec;
      try { spec = JSON.parse(block.textContent); } catch (e) { return; }
      if (!spec || !spec.series || !spec.series.length) { return; }
      el.hidden = false;
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option(spec));
      charts.push(chart);
    });
    var pending = null;
    window.addEventListener("resize", function () {
      if (pending) { window.clearTimeout(pending); }
      pending = window.setTimeout(function () {
        charts.forEach(function (c) { c.resize(); });
      }, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
