/* QA report charts (Apache ECharts, served by Django): pass rate and average score by rep,
   sensitive-word hits by category. The figures come from the page's JSON block, the same
   ones the tables show. */
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("qa-charts");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var options = { locale: data.locale, renderer: "svg" };
    var rep = document.getElementById("chart-rep");
    if (rep) {
      window.echarts.init(rep, null, options).setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 40, right: 10, top: 30, bottom: 50 },
        xAxis: { type: "category", data: data.rep.labels, axisLabel: { rotate: 30 } },
        yAxis: { type: "value", max: 100 },
        series: [
          { name: data.rep.rateName, type: "bar", data: data.rep.rate },
          { name: data.rep.averageName, type: "line", data: data.rep.average }
        ]
      });
    }
    var hits = document.getElementById("chart-hits");
    if (hits) {
      window.echarts.init(hits, null, options).setOption({
        animation: false,
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["35%", "70%"], data: data.hits }]
      });
    }
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
