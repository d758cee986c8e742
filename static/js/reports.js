// The report charts: Apache ECharts (served from node_modules by Django), in the page's
// language; the numbers come from the json_script beside each chart, and the table on the
// page shows the same figures.
(function () {
  "use strict";
  if (!window.echarts) { return; }
  function data(id) {
    var source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  }
  function init(el) {
    var holder = document.getElementById("chart-locale") || el;
    var chart = window.echarts.init(el, null, { locale: holder.dataset.locale || "ZH", renderer: "svg" });
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }
  var funnelEl = document.getElementById("funnel-chart");
  var funnel = data("funnel-data");
  if (funnelEl && funnel) {
    init(funnelEl).setOption({
      animation: false,
      tooltip: { trigger: "item", formatter: "{b}: {c}" },
      series: [{
        type: "funnel", sort: "none", left: "5%", width: "90%", minSize: "8%", gap: 2,
        label: { show: true, position: "inside", formatter: "{b}\n{c}" },
        data: funnel.levels
      }]
    });
  }
  var rates = data("rates-data");
  var amountEl = document.getElementById("amount-chart");
  if (amountEl && rates) {
    init(amountEl).setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: rates.bars.names },
      series: [{ type: "bar", data: rates.bars.values }]
    });
  }
  var trendEl = document.getElementById("trend-chart");
  if (trendEl && rates) {
    init(trendEl).setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: rates.trend.periods },
      yAxis: { type: "value", minInterval: 1 },
      series: rates.trend.series.map(function (s) {
        return { type: "bar", stack: "kinds", name: s.name, data: s.data };
      })
    });
  }
})();
(function () {
  "use strict";
  var el = document.getElementById("ages-chart");
  var source = document.getElementById("pools-data");
  if (!el || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var holder = document.getElementById("chart-locale") || el;
  var chart = window.echarts.init(el, null, { locale: holder.dataset.locale || "ZH", renderer: "svg" });
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis" }, legend: { top: 0 },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", inverse: true, data: data.pools },
    series: data.series.map(function (s) {
      return { type: "bar", stack: "ages", name: s.name, data: s.data };
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
