// The report charts: Apache ECharts (served from node_modules by Django), in the page's
// language; the numbers come from the json_script beside each chart, the table beside it
// shows the same figures.
(function () {
  "use strict";
  var el = document.getElementById("funnel-chart");
  var source = document.getElementById("funnel-data");
  if (!el || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var chart = window.echarts.init(el, null, { locale: el.dataset.locale || "ZH", renderer: "svg" });
  chart.setOption({
    tooltip: { trigger: "item", formatter: "{b}: {c}" },
    series: [{
      type: "funnel", sort: "none", left: "5%", width: "90%", minSize: "8%", gap: 2,
      label: { show: true, position: "inside", formatter: "{b}\n{c}" },
      data: data.levels
    }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
