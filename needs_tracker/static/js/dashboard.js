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

  // On a phone (390 px) legends sit under the title and wrap onto several lines, month labels
  // stay level and skip rather than overlap, and bar names go above their bars, whole.
  var keys = ordered(data.trend, O.series);
  make("chart-trend", {
    title: title(L.trend),
    tooltip: { trigger: "axis" },
    legend: narrow
      ? { top: 26, left: "center", width: "90%", itemGap: 8, data: keys.map(function (k) { return L.series[k]; }) }
      : { bottom: 0, data: keys.map(function (k) { return L.series[k]; }) },
    grid: narrow ? { left: 36, right: 12, top: 88, bottom: 28 } : { left: 40, right: 16, top: 40, bottom: 50 },
    xAxis: {
      type: "category", data: data.months,
      axisLabel: { rotate: 0, hideOverlap: true, formatter: narrow ? function (m) { return m.slice(2); } : "{value}" }
    },
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
      type: "funnel", top: 40, bottom: 10, left: "10%", width: "80%", sort: "none", minSize: "30%",
      // Inside the bands: beside them a narrow screen leaves one character of room.
      label: { position: "inside", formatter: "{b}: {c}", color: "#fff", textBorderColor: "#333", textBorderWidth: 2 },
      data: funnelKeys.map(function (k) { return { name: L.funnel[k], value: data.funnel[k] }; })
    }]
  });

  function bars(id, text, pairs) {
    var rows = pairs.slice(0, 12).reverse();
    var names = rows.map(function (r) { return r[0]; });
    if (narrow) {
      // Each name whole, above its bar, with the count after it.
      make(id, {
        title: title(text),
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        grid: { left: 8, right: 16, top: 48, bottom: 8 },
        xAxis: { type: "value", minInterval: 1, show: false },
        yAxis: { type: "category", data: names, axisLabel: { show: false }, axisTick: { show: false } },
        series: [{
          type: "bar", barWidth: 12, data: rows.map(function (r) { return r[1]; }),
          label: { show: true, position: [0, -16], formatter: "{b}  {c}", color: "#212529" }
        }]
      }, Math.max(220, 60 + rows.length * 40));
      return;
    }
    make(id, {
      title: title(text),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 110, right: 24, top: 40, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: names, axisLabel: { width: 100, overflow: "break" } },
      series: [{ type: "bar", data: rows.map(function (r) { return r[1]; }), label: { show: true, position: "right" } }]
    }, Math.max(220, 40 + rows.length * 26));
  }
  bars("chart-field", L.by_field, data.by_field);
  bars("chart-district", L.by_district, data.by_district);

  make("chart-status", {
    title: title(L.by_status),
    tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
    legend: narrow ? { bottom: 0, left: "center", width: "94%", itemGap: 8 } : { bottom: 0, type: "scroll" },
    series: [{
      type: "pie", radius: narrow ? ["28%", "48%"] : ["35%", "62%"], center: ["50%", narrow ? "42%" : "50%"],
      label: narrow ? { show: false } : {},
      data: ordered(data.by_status, O.status).map(function (k) {
        return { name: L.status[k] || k, value: data.by_status[k] };
      })
    }]
  }, narrow ? 340 : undefined);

  if (data.centres && data.centres.length) {
    var cols = ["visits", "needs", "matches", "resolved"];
    make("chart-centres", {
      title: title(L.centres),
      tooltip: { trigger: "axis" },
      legend: narrow ? { top: 26, left: "center", width: "90%", itemGap: 8 } : { bottom: 0 },
      grid: narrow ? { left: 36, right: 12, top: 88, bottom: 48 } : { left: 40, right: 16, top: 40, bottom: 60 },
      xAxis: { type: "category", data: data.centres.map(function (c) { return c.name; }), axisLabel: { interval: 0, width: narrow ? 90 : 140, overflow: "break" } },
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
