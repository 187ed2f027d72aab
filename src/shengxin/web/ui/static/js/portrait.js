// Portrait charts: fetch the enterprise's monthly series (JSON API) and draw four ECharts line charts.
(function () {
  var box = document.getElementById("series-charts");
  if (!box) { return; }
  var status = document.getElementById("series-status");
  var charts = [
    { id: "chart-revenue", key: "revenue_fen", title: "营业收入（万元）", scale: 1 / 1000000 },
    { id: "chart-tax", key: "tax_fen", title: "实缴税额（万元）", scale: 1 / 1000000 },
    { id: "chart-headcount", key: "si_headcount", title: "社保参保人数（人）", scale: 1 },
    { id: "chart-electricity", key: "electricity_kwh", title: "用电量（千瓦时）", scale: 1 }
  ];
  fetch(box.dataset.seriesUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(function (data) {
      charts.forEach(function (c) {
        var chart = echarts.init(document.getElementById(c.id));
        var values = data[c.key].map(function (v) { return v === null ? null : Math.round(v * c.scale * 100) / 100; });
        chart.setOption({
          title: { text: c.title, textStyle: { fontSize: 14 } },
          tooltip: { trigger: "axis" },
          grid: { left: 60, right: 20, top: 40, bottom: 30 },
          xAxis: { type: "category", data: data.months },
          yAxis: { type: "value" },
          series: [{ type: "line", data: values, connectNulls: false, showSymbol: false }]
        });
        window.addEventListener("resize", function () { chart.resize(); });
      });
      status.textContent = data.months.length ? "共 " + data.months.length + " 个月，空缺表示该月未报送。" : "暂无月度数据";
    })
    .catch(function (err) { status.textContent = "月度数据加载失败：" + err.message; });
})();
