/* Dashboard charts (ECharts, served from the app). Data comes from #dashboard-data. */
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || typeof echarts === "undefined") { return; }
  var data = JSON.parse(node.textContent);
  var L = data.labels;
  var narrow = window.matchMedia("(max-width: 576px)").matches;
  var charts = [];

  // Each chart is drawn in its own task so a slow phone never blocks input for the
  // whole dashboard at once (Lighthouse's total blocking time).
  var queue = [];
  function make(id, option, height) { queue.push([id, option, height]); }
  function drawNext() {
    var job = queue.shift();
    if (!job) { return; }
    draw(job[0], job[1], job[2]);
    setTimeout(drawNext, 0);
  }

  function draw(id, option, height) {
    var el = document.getElementById(id);
    if (!el) { return; }
    el.style.height = (height || (narrow ? 280 : 320)) + "px";
    el.style.width = "100%";
    var chart = echarts.init(el, null, { renderer: "svg" });
    option.textStyle = { fontFamily: "system-ui, 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif" };
    chart.setOption(option);
    charts.push(chart);
  }

  function title(text) { return { text: text, left: "center", textStyle: { fontSize: 14 } }; }

  // Keys of obj in the server's order (the JSON's own key order is alphabetical), then any
  // others.
  function ordered(obj, order) {
    var known = (order || []).filter(function (k) { return k in obj; });
    return known.concat(Object.keys(obj).filter(function (k) { return known.indexOf(k) < 0; }));
  }
  var O = data.order || {};

  var keys = ordered(data.trend, O.series);
  make("chart-trend", {
    title: title(L.trend),
    tooltip: { trigger: "axis" },
    legend: { bottom: 0, data: keys.map(function (k) { return L.series[k]; }) },
    grid: { left: 40, right: 16, top: 40, bottom: narrow ? 70 : 50 },
    xAxis: { type: "category", data: data.months, axisLabel: { rotate: narrow ? 45 : 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: keys.map(function (k) {
      return { name: L.series[k], type: "line", smooth: true, data: data.trend[k] };
    })
  });

  var funnelKeys = ordered(data.funnel, O.funnel);
  make("chart-funnel", {
    title: title(L.funnel_title),
    tooltip: { trigger: "item" },
    series: [{
      type: "funnel", top: 40, bottom: 10, left: "10%", width: "80%", sort: "none",
      label: { formatter: "{b}: {c}" },
      data: funnelKeys.map(function (k) { return { name: L.funnel[k], value: data.funnel[k] }; })
    }]
  });

  function bars(id, text, pairs) {
    var rows = pairs.slice(0, 12).reverse();
    make(id, {
      title: title(text),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: narrow ? 90 : 110, right: 24, top: 40, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: rows.map(function (r) { return r[0]; }), axisLabel: { width: narrow ? 80 : 100, overflow: "truncate" } },
      series: [{ type: "bar", data: rows.map(function (r) { return r[1]; }), label: { show: true, position: "right" } }]
    }, Math.max(220, 40 + rows.length * 26));
  }
  bars("chart-field", L.by_field, data.by_field);
  bars("chart-district", L.by_district, data.by_district);

  make("chart-status", {
    title: title(L.by_status),
    tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
    legend: { bottom: 0, type: "scroll" },
    series: [{
      type: "pie", radius: ["35%", "62%"], center: ["50%", "50%"],
      data: ordered(data.by_status, O.status).map(function (k) {
        return { name: L.status[k] || k, value: data.by_status[k] };
      })
    }]
  });

  if (data.centres && data.centres.length) {
    var cols = ["visits", "needs", "matches", "resolved"];
    make("chart-centres", {
      title: title(L.centres),
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 40, right: 16, top: 40, bottom: 60 },
      xAxis: { type: "category", data: data.centres.map(function (c) { return c.name; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: cols.map(function (k) {
        return { name: L.series[k], type: "bar", data: data.centres.map(function (c) { return c[k]; }) };
      })
    });
  }

  setTimeout(drawNext, 0);

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
