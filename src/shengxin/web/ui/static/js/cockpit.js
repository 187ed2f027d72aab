// Cockpit charts: fetch /api/cockpit (the caller's scope) and draw five ECharts charts.
// No inline script (the CSP forbids it): the page only carries data-* attributes.
(function () {
  var root = document.getElementById("cockpit");
  if (!root || typeof echarts === "undefined") { return; }
  var status = document.getElementById("cockpit-status");
  var RED = "#c8102e", GREEN = "#15803d", BLUE = "#1d4ed8", AMBER = "#d97706";
  var charts = {};
  window.shengxinCharts = charts;

  function box(id) { return document.getElementById(id); }

  function empty(el, text) {
    el.classList.add("empty");
    el.textContent = text;
  }

  function draw(key, el, option) {
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    charts[key] = chart;
    return chart;
  }

  function towns(el, rows) {
    if (!rows.length) { return empty(el, "暂无镇街数据"); }
    draw("towns", el, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: ["预警信号", "成长信号", "在册企业"], top: 0 },
      grid: { left: 50, right: 60, top: 32, bottom: 70 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.name; }),
               axisLabel: { interval: 0, rotate: 35 } },
      yAxis: [{ type: "value", name: "信号（条）" }, { type: "value", name: "企业（家）", splitLine: { show: false } }],
      series: [
        { name: "预警信号", type: "bar", stack: "s", itemStyle: { color: RED }, data: rows.map(function (r) { return r.warning; }) },
        { name: "成长信号", type: "bar", stack: "s", itemStyle: { color: GREEN }, data: rows.map(function (r) { return r.growth; }) },
        { name: "在册企业", type: "line", yAxisIndex: 1, itemStyle: { color: BLUE }, data: rows.map(function (r) { return r.enterprises; }) }
      ]
    });
  }

  function grid(el, cells) {
    if (!cells.length) { return empty(el, "暂无镇街数据"); }
    var cols = Math.max.apply(null, cells.map(function (c) { return c.x; })) + 1;
    var rows = Math.max.apply(null, cells.map(function (c) { return c.y; })) + 1;
    var max = Math.max.apply(null, cells.map(function (c) { return c.value; }).concat([1]));
    var xs = [], ys = [];
    for (var i = 0; i < cols; i++) { xs.push(String(i)); }
    for (var j = 0; j < rows; j++) { ys.push(String(j)); }
    draw("grid", el, {
      tooltip: { formatter: function (p) { var c = cells[p.dataIndex];
        return c.name + "<br>预警 " + c.warning + " 条 / 企业 " + c.enterprises + " 家<br>每千户 " + c.value; } },
      grid: { left: 10, right: 10, top: 10, bottom: 50 },
      xAxis: { type: "category", data: xs, show: false },
      yAxis: { type: "category", data: ys, show: false, inverse: true },
      visualMap: { min: 0, max: max, calculable: true, orient: "horizontal", left: "center", bottom: 0,
                   inRange: { color: ["#fef3c7", "#f59e0b", RED] }, text: ["高", "低"] },
      series: [{ type: "heatmap", data: cells.map(function (c) { return [c.x, c.y, c.value]; }),
                 label: { show: true, formatter: function (p) { var c = cells[p.dataIndex]; return c.name + "\n" + c.value; } },
                 itemStyle: { borderColor: "#fff", borderWidth: 3 } }]
    });
  }

  function bySignal(el, rows) {
    if (!rows.length) { return empty(el, "暂无在办信号"); }
    var sorted = rows.slice().sort(function (a, b) { return a.total - b.total; });
    draw("by_signal", el, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 150, right: 30, top: 10, bottom: 30 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: sorted.map(function (r) { return r.name; }) },
      series: [{ type: "bar", data: sorted.map(function (r) {
        return { value: r.total, itemStyle: { color: r.warning ? RED : GREEN } }; }), label: { show: true, position: "right" } }]
    });
  }

  function signalTrend(el, rows) {
    if (!rows.length) { return empty(el, "暂无信号"); }
    draw("signal_trend", el, {
      tooltip: { trigger: "axis" },
      legend: { data: ["预警", "成长"], top: 0 },
      grid: { left: 45, right: 20, top: 32, bottom: 30 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.month; }) },
      yAxis: { type: "value", name: "条" },
      series: [
        { name: "预警", type: "bar", itemStyle: { color: RED }, data: rows.map(function (r) { return r.warning; }) },
        { name: "成长", type: "bar", itemStyle: { color: GREEN }, data: rows.map(function (r) { return r.growth; }) }
      ]
    });
  }

  function economy(el, rows) {
    var usable = rows.filter(function (r) { return r.revenue_ttm_yi !== null; });
    if (!usable.length) { return empty(el, "月度数据不足12个月，暂无滚动合计"); }
    draw("economy_trend", el, {
      tooltip: { trigger: "axis" },
      legend: { data: ["营业收入", "实缴税额"], top: 0 },
      grid: { left: 60, right: 60, top: 36, bottom: 30 },
      xAxis: { type: "category", data: usable.map(function (r) { return r.month; }) },
      yAxis: [{ type: "value", name: "营业收入（亿元）", scale: true },
              { type: "value", name: "税额（亿元）", scale: true, splitLine: { show: false } }],
      series: [
        { name: "营业收入", type: "line", showSymbol: false, itemStyle: { color: BLUE }, data: usable.map(function (r) { return r.revenue_ttm_yi; }) },
        { name: "实缴税额", type: "line", yAxisIndex: 1, showSymbol: false, itemStyle: { color: AMBER }, data: usable.map(function (r) { return r.tax_ttm_yi; }) }
      ]
    });
  }

  fetch(root.dataset.endpoint, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(function (data) {
      var c = data.charts;
      towns(box("chart-towns"), c.towns);
      grid(box("chart-grid"), c.grid);
      bySignal(box("chart-by-signal"), c.by_signal);
      signalTrend(box("chart-signal-trend"), c.signal_trend);
      economy(box("chart-economy"), c.economy_trend);
      root.dataset.rendered = "true";
      status.textContent = "数据生成于 " + data.generated_at.replace("T", " ").replace("+00:00", " UTC") +
        "。点击信号查看证据，点击企业名称进入企业画像。";
      window.addEventListener("resize", function () {
        Object.keys(charts).forEach(function (k) { charts[k].resize(); });
      });
    })
    .catch(function (err) { status.textContent = "图表数据加载失败：" + err.message + "，请刷新重试。"; });
})();
