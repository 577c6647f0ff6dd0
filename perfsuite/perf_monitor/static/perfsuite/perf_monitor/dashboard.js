/*
 * Performance dashboard: polls the JSON feed and updates the page in place.
 *
 * The server renders the whole page first (it reads without JavaScript); this
 * script draws the charts with uPlot, makes the route table sortable, switches
 * the time window without a reload and refreshes everything every 5 s.
 *
 * Every string that comes from the metrics (route names, panel stats) reaches
 * the DOM through textContent / createElement only, never innerHTML.
 *
 * Panel templates may mark figures for live updates with
 * data-panel-stat="key" (or "key.sub"): their text is replaced by that stat.
 */
(function () {
  "use strict";

  var root = document.getElementById("ps-dashboard");
  var dataNode = document.getElementById("ps-dashboard-data");
  if (!root || !dataNode) {
    return;
  }

  var feedUrl = root.getAttribute("data-url");
  var refreshMs = parseInt(root.getAttribute("data-refresh-ms"), 10) || 5000;
  var state = {
    data: JSON.parse(dataNode.textContent),
    window: root.getAttribute("data-window") || "5m",
    live: true,
    sortKey: "count",
    sortDir: "descending",
    timer: null,
    generation: 0,
    inflight: null,
  };
  var charts = {};
  var DASH = "\u2013";

  // -- formatting (mirrors admin.py) ---------------------------------------

  function isNum(value) {
    return typeof value === "number" && isFinite(value);
  }

  function ms(seconds) {
    return isNum(seconds) ? (seconds * 1000).toFixed(1) + " ms" : DASH;
  }

  function percent(fraction, digits) {
    return isNum(fraction) ? (fraction * 100).toFixed(digits) + " %" : DASH;
  }

  function fixed(value, digits, unit) {
    return isNum(value) ? value.toFixed(digits) + unit : DASH;
  }

  function rate(value) {
    if (value >= 100) {
      return value.toFixed(0);
    }
    if (value >= 1 || value === 0) {
      return value.toFixed(2);
    }
    return String(Number(value.toPrecision(2)));
  }

  function duration(seconds) {
    if (!isNum(seconds)) {
      return DASH;
    }
    var s = Math.floor(seconds);
    var days = Math.floor(s / 86400);
    var hours = Math.floor((s % 86400) / 3600);
    var minutes = Math.floor((s % 3600) / 60);
    var secs = s % 60;
    if (days) {
      return days + "d " + hours + "h";
    }
    if (hours) {
      return hours + "h " + minutes + "m";
    }
    if (minutes) {
      return minutes + "m " + secs + "s";
    }
    return secs + "s";
  }

  function statText(value) {
    if (value === null || value === undefined) {
      return DASH;
    }
    if (typeof value === "boolean") {
      return value ? "yes" : "no";
    }
    if (typeof value === "number") {
      if (!isFinite(value) || Number.isInteger(value)) {
        return String(value);
      }
      return String(Number(value.toPrecision(4)));
    }
    if (typeof value === "object") {
      return JSON.stringify(value);
    }
    return String(value);
  }

  function clock(epoch) {
    if (!isNum(epoch)) {
      return DASH;
    }
    return new Date(epoch * 1000).toLocaleTimeString();
  }

  // -- DOM helpers ----------------------------------------------------------

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    if (className) {
      node.className = className;
    }
    return node;
  }

  function setText(id, text) {
    var node = document.getElementById(id);
    if (node) {
      node.textContent = text;
    }
  }

  function emptyRow(colspan, text) {
    var tr = el("tr", null, "ps-empty");
    var td = el("td", text);
    td.colSpan = colspan;
    tr.appendChild(td);
    return tr;
  }

  function fillBody(table, rows, colspan, emptyText) {
    var tbody = table.tBodies[0];
    var fragment = document.createDocumentFragment();
    if (!rows.length) {
      fragment.appendChild(emptyRow(colspan, emptyText));
    }
    rows.forEach(function (row) {
      fragment.appendChild(row);
    });
    tbody.replaceChildren(fragment);
  }

  // -- overview ---------------------------------------------------------------

  function renderCards(data) {
    var latency = data.latency || {};
    var avg = latency.avg !== undefined ? latency.avg : data.avg_response_time;
    var texts = {
      requests_processed: statText(data.requests_processed),
      throughput: isNum(data.throughput) ? rate(data.throughput) + " req/s" : DASH,
      error_rate: percent(data.error_rate, 2),
      avg: ms(avg),
      p50: ms(latency.p50),
      p95: ms(latency.p95),
      p99: ms(latency.p99),
      memory_usage: fixed(data.memory_usage, 1, " MB"),
      cpu_usage: fixed(data.cpu_usage, 1, " %"),
      uptime_seconds: duration(data.uptime_seconds),
    };
    root.querySelectorAll("[data-card]").forEach(function (node) {
      var key = node.getAttribute("data-card");
      if (Object.prototype.hasOwnProperty.call(texts, key)) {
        node.textContent = texts[key];
      }
    });
    setText("ps-store", data.store || DASH);
    setText("ps-processes", data.processes === null || data.processes === undefined ? DASH : String(data.processes));
    setText("ps-updated", clock(data.generated_at));
    showError(data.error);
  }

  function showError(message) {
    var node = document.getElementById("ps-error");
    if (!node) {
      return;
    }
    node.textContent = message || "";
    node.hidden = !message;
  }

  // -- route table (sortable) -----------------------------------------------

  var ROUTE_COLUMNS = ["p50", "p95", "p99", "max"];

  function routeRows(data) {
    var routes = data.routes || {};
    return Object.keys(routes).map(function (name) {
      var stats = routes[name] || {};
      return {
        route: name,
        count: stats.count || 0,
        p50: stats.p50,
        p95: stats.p95,
        p99: stats.p99,
        max: stats.max,
        error_rate: stats.error_rate,
      };
    });
  }

  function compareRows(key, dir) {
    var sign = dir === "ascending" ? 1 : -1;
    return function (a, b) {
      var x = a[key];
      var y = b[key];
      var result;
      if (key === "route") {
        result = String(x).localeCompare(String(y));
      } else {
        // missing figures sort last, whichever the direction
        var xm = !isNum(x);
        var ym = !isNum(y);
        if (xm || ym) {
          return xm === ym ? a.route.localeCompare(b.route) : xm ? 1 : -1;
        }
        result = x - y;
      }
      return result * sign || a.route.localeCompare(b.route);
    };
  }

  function renderRoutes(data) {
    var table = document.getElementById("ps-routes");
    if (!table) {
      return;
    }
    var rows = routeRows(data).sort(compareRows(state.sortKey, state.sortDir));
    var trs = rows.map(function (row) {
      var tr = document.createElement("tr");
      var name = el("th", row.route, "ps-route");
      name.scope = "row";
      tr.appendChild(name);
      tr.appendChild(el("td", String(row.count), "ps-num"));
      ROUTE_COLUMNS.forEach(function (key) {
        tr.appendChild(el("td", ms(row[key]), "ps-num"));
      });
      tr.appendChild(el("td", percent(row.error_rate, 1), "ps-num"));
      return tr;
    });
    fillBody(table, trs, 7, "No requests in this window yet.");
    table.querySelectorAll("thead th[data-sort]").forEach(function (th) {
      if (th.getAttribute("data-sort") === state.sortKey) {
        th.setAttribute("aria-sort", state.sortDir);
      } else {
        th.removeAttribute("aria-sort");
      }
    });
  }

  function bindSorting() {
    var table = document.getElementById("ps-routes");
    if (!table) {
      return;
    }
    table.querySelectorAll("thead th[data-sort]").forEach(function (th) {
      var button = th.querySelector("button") || th;
      button.addEventListener("click", function () {
        var key = th.getAttribute("data-sort");
        if (state.sortKey === key) {
          state.sortDir = state.sortDir === "ascending" ? "descending" : "ascending";
        } else {
          state.sortKey = key;
          state.sortDir = key === "route" ? "ascending" : "descending";
        }
        renderRoutes(state.data);
      });
    });
  }

  // -- slowest requests -----------------------------------------------------

  function renderSlowest(data) {
    var table = document.getElementById("ps-slowest");
    if (!table) {
      return;
    }
    var trs = (data.slowest || []).map(function (item) {
      var tr = document.createElement("tr");
      tr.appendChild(el("td", clock(item.at), "ps-when"));
      tr.appendChild(el("td", statText(item.route), "ps-route"));
      tr.appendChild(el("td", statText(item.method)));
      tr.appendChild(el("td", statText(item.status), "ps-num"));
      tr.appendChild(el("td", ms(item.duration), "ps-num"));
      return tr;
    });
    fillBody(table, trs, 5, "No requests recorded in the last hour.");
  }

  // -- panels, custom metrics -------------------------------------------------

  function lookup(stats, path) {
    return path.split(".").reduce(function (value, part) {
      return value !== null && typeof value === "object" ? value[part] : undefined;
    }, stats);
  }

  function renderPanels(data) {
    var container = document.getElementById("ps-panels");
    if (!container) {
      return;
    }
    (data.panels || []).forEach(function (panel) {
      var section = null;
      container.querySelectorAll("[data-panel-id]").forEach(function (node) {
        if (node.getAttribute("data-panel-id") === panel.id) {
          section = node;
        }
      });
      if (!section) {
        return; // a panel registered after the page loaded appears on reload
      }
      var stats = panel.stats || {};
      if (section.hasAttribute("data-generic")) {
        var table = section.querySelector("table");
        if (!table) {
          return;
        }
        var trs = Object.keys(stats).map(function (key) {
          var tr = document.createElement("tr");
          var th = el("th", key);
          th.scope = "row";
          tr.appendChild(th);
          tr.appendChild(el("td", statText(stats[key])));
          return tr;
        });
        fillBody(table, trs, 2, "No figures yet.");
      } else {
        section.querySelectorAll("[data-panel-stat]").forEach(function (node) {
          node.textContent = statText(lookup(stats, node.getAttribute("data-panel-stat")));
        });
      }
    });
  }

  function renderMetrics(data) {
    var metricsTable = document.getElementById("ps-metrics");
    if (metricsTable) {
      var metrics = data.metrics || {};
      var rows = Object.keys(metrics).sort().map(function (name) {
        var stats = metrics[name] || {};
        var tr = document.createElement("tr");
        var th = el("th", name, "ps-route");
        th.scope = "row";
        tr.appendChild(th);
        ["count", "mean", "median", "p95", "p99", "max"].forEach(function (key) {
          tr.appendChild(el("td", statText(stats[key]), "ps-num"));
        });
        return tr;
      });
      fillBody(metricsTable, rows, 7, "No custom metrics.");
    }
    var countersTable = document.getElementById("ps-counters");
    if (countersTable) {
      var counters = data.counters || {};
      var crows = Object.keys(counters).sort().map(function (name) {
        var tr = document.createElement("tr");
        var th = el("th", name, "ps-route");
        th.scope = "row";
        tr.appendChild(th);
        tr.appendChild(el("td", statText(counters[name]), "ps-num"));
        return tr;
      });
      fillBody(countersTable, crows, 2, "No counters.");
    }
  }

  // -- charts -----------------------------------------------------------------

  function cssVar(name, fallback) {
    var value = getComputedStyle(root).getPropertyValue(name).trim();
    return value || fallback;
  }

  function chartSeries(data) {
    var timeline = data.timeline || {};
    var starts = timeline.start || [];
    function column(values, scale) {
      return starts.map(function (_, i) {
        var v = values ? values[i] : null;
        return isNum(v) ? v * scale : null;
      });
    }
    return {
      x: starts.slice(),
      requests: column(timeline.requests, 1),
      p95: column(timeline.p95, 1000),
      memory: column(timeline.memory, 1),
    };
  }

  function spanLabel(xs) {
    var step = xs.length > 1 ? xs[1] - xs[0] : 60;
    if (step >= 3600) {
      return "per hour, last " + xs.length + " hours";
    }
    return "per minute, last " + (xs.length === 60 ? "hour" : xs.length + " minutes");
  }

  var CHARTS = [
    { key: "requests", id: "ps-chart-requests", label: "Requests", color: "--ps-series-1", unit: "", bars: true },
    { key: "p95", id: "ps-chart-p95", label: "p95", color: "--ps-series-2", unit: " ms" },
    { key: "memory", id: "ps-chart-memory", label: "RSS", color: "--ps-series-3", unit: " MB" },
  ];

  function isolatedPoints(u, seriesIdx) {
    var values = u.data[seriesIdx] || [];
    var found = [];
    for (var i = 0; i < values.length; i++) {
      if (isNum(values[i]) && !isNum(values[i - 1]) && !isNum(values[i + 1])) {
        found.push(i);
      }
    }
    return found;
  }

  function chartWidth(box) {
    return Math.max(240, Math.floor(box.clientWidth || box.parentNode.clientWidth || 300));
  }

  function makeChart(spec, series) {
    var box = document.getElementById(spec.id);
    if (!box || typeof window.uPlot !== "function") {
      return null;
    }
    var fg = cssVar("--body-quiet-color", "#666");
    var grid = cssVar("--hairline-color", "#e8e8e8");
    var stroke = cssVar(spec.color, "#417690");
    var line = {
      label: spec.label,
      stroke: stroke,
      width: 2,
      spanGaps: false,
      // a minute between two empty ones has no line to sit on: draw it as a dot
      points: { show: true, size: 5, fill: stroke, filter: isolatedPoints },
      value: function (u, v) {
        return isNum(v) ? (spec.key === "requests" ? String(v) : v.toFixed(1)) + spec.unit : DASH;
      },
    };
    if (spec.bars && window.uPlot.paths && window.uPlot.paths.bars) {
      line.paths = window.uPlot.paths.bars({ size: [0.7, 40] });
      line.fill = stroke;
      line.width = 0;
      line.points = { show: false };
    } else {
      line.fill = stroke + "22";
    }
    var options = {
      width: chartWidth(box),
      height: 180,
      cursor: { drag: { x: false, y: false } },
      legend: { show: true },
      scales: {
        x: { time: true },
        y: {
          range: function (u, min, max) {
            var top = isNum(max) && max > 0 ? max * 1.1 : 1;
            return [0, top];
          },
        },
      },
      axes: [
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        {
          stroke: fg,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          size: 50,
          values: function (u, ticks) {
            return ticks.map(function (t) {
              return String(Number(t.toPrecision(3)));
            });
          },
        },
      ],
      series: [{ label: "Time", value: function (u, v) { return clock(v); } }, line],
      hooks: {
        draw: [
          function () {
            box.setAttribute("data-drawn", String(Date.now()));
          },
        ],
      },
    };
    return new window.uPlot(options, [series.x, series[spec.key]], box);
  }

  function renderCharts(data) {
    var series = chartSeries(data);
    setText("ps-chart-span", spanLabel(series.x));
    CHARTS.forEach(function (spec) {
      var chart = charts[spec.key];
      if (!chart) {
        chart = charts[spec.key] = makeChart(spec, series);
      } else {
        chart.setData([series.x, series[spec.key]]);
      }
    });
  }

  function resizeCharts() {
    CHARTS.forEach(function (spec) {
      var chart = charts[spec.key];
      var box = document.getElementById(spec.id);
      if (chart && box) {
        var width = chartWidth(box);
        if (Math.abs(chart.width - width) > 2) {
          chart.setSize({ width: width, height: 180 });
        }
      }
    });
  }

  // -- refresh ------------------------------------------------------------------

  function render(data) {
    state.data = data;
    renderCards(data);
    renderRoutes(data);
    renderSlowest(data);
    renderPanels(data);
    renderMetrics(data);
    renderCharts(data);
    root.setAttribute("data-generated-at", String(data.generated_at || ""));
  }

  function feedFor(windowName) {
    var sep = feedUrl.indexOf("?") === -1 ? "?" : "&";
    return feedUrl + sep + "window=" + encodeURIComponent(windowName);
  }

  function refresh() {
    if (state.inflight) {
      state.inflight.abort();
    }
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    state.inflight = controller;
    return fetch(feedFor(state.window), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          throw new Error("The dashboard feed did not answer with JSON (HTTP " + response.status + "); is the session still signed in?");
        }
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body && body.error ? body.error : "HTTP " + response.status);
          }
          return body;
        });
      })
      .then(function (body) {
        render(body);
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") {
          return;
        }
        showError("Could not refresh: " + (error && error.message ? error.message : String(error)));
      })
      .finally(function () {
        if (state.inflight === controller) {
          state.inflight = null;
        }
      });
  }

  function schedule() {
    // One polling chain at a time: a newer call retires the older chain.
    clearTimeout(state.timer);
    state.timer = null;
    state.generation += 1;
    var generation = state.generation;
    if (!state.live) {
      return;
    }
    state.timer = setTimeout(function tick() {
      if (generation !== state.generation) {
        return;
      }
      var done = document.hidden ? Promise.resolve() : refresh();
      done.then(function () {
        if (generation === state.generation && state.live) {
          state.timer = setTimeout(tick, refreshMs);
        }
      });
    }, refreshMs);
  }

  // -- controls -------------------------------------------------------------------

  function bindWindows() {
    var links = root.querySelectorAll("#ps-window-selector [data-window]");
    links.forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        state.window = link.getAttribute("data-window");
        root.setAttribute("data-window", state.window);
        links.forEach(function (other) {
          var active = other === link;
          other.classList.toggle("ps-active", active);
          if (active) {
            other.setAttribute("aria-current", "true");
          } else {
            other.removeAttribute("aria-current");
          }
        });
        if (window.history && window.history.replaceState) {
          var url = new URL(window.location.href);
          url.searchParams.set("window", state.window);
          window.history.replaceState(null, "", url.toString());
        }
        refresh().then(schedule);
      });
    });
  }

  function bindLive() {
    var button = document.getElementById("ps-live");
    if (!button) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      state.live = !state.live;
      button.setAttribute("aria-pressed", String(state.live));
      button.textContent = state.live ? "Live" : "Paused";
      if (state.live) {
        refresh().then(schedule);
      } else {
        schedule();
      }
    });
  }

  function start() {
    bindSorting();
    bindWindows();
    bindLive();
    render(state.data);
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(resizeCharts).observe(root);
    } else {
      window.addEventListener("resize", resizeCharts);
    }
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && state.live) {
        refresh().then(schedule);
      }
    });
    schedule();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
