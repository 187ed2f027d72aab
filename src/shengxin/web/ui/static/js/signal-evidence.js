// Evidence chart of one signal: the metric's monthly values against the expected (baseline) values,
// with the signal's months shaded. Data from /api/signals/{key}; no inline script (CSP).
(function () {
  var el = document.getElementById("evidence-chart");
  if (!el || typeof echarts === "undefined") { return; }
  var status = document.getElementById("evidence-status");

  function months(start, n) {
    var y = parseInt(start.slice(0, 4), 10), m = parseInt(start.slice(5, 7), 10) - 1, out = [];
    for (var i = 0; i < n; i++) {
      var k = y * 12 + m + i;
      out.push(Math.floor(k / 12) + "-" + ("0" + (k % 12 + 1)).slice(-2));
    }
    return out;
  }
  function round(v) { return v === null ? null : Math.round(v * 100) / 100; }

  fetch(el.dataset.endpoint, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(function (s) {
      var axis = months(s.series_start, s.series_values.length);
      var from = s.start_month.slice(0, 7), to = s.end_month.slice(0, 7);
      var chart = echarts.init(el);
      chart.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: ["实际值", "基线（预期值）"], top: 0 },
        grid: { left: 70, right: 20, top: 36, bottom: 30 },
        xAxis: { type: "category", data: axis },
        yAxis: { type: "value" },
        series: [
          { name: "实际值", type: "line", data: s.series_values.map(round), itemStyle: { color: "#c8102e" },
            markArea: { itemStyle: { color: "rgba(200,16,46,0.08)" }, data: [[{ xAxis: from }, { xAxis: to }]] } },
          { name: "基线（预期值）", type: "line", data: s.series_baseline.map(round), lineStyle: { type: "dashed" },
            itemStyle: { color: "#1d4ed8" } }
        ]
      });
      window.shengxinEvidenceChart = chart;
      el.dataset.rendered = "true";
      window.addEventListener("resize", function () { chart.resize(); });
    })
    .catch(function (err) { status.textContent = "证据数据加载失败：" + err.message; });
})();
