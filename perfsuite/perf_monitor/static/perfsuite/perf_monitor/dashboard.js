/*
 * Performance dashboard: polls fragments.json and swaps the page's fragments in.
 *
 * The server renders every figure (render.py and the _*.html fragments, escaped
 * by the template engine) for the first load and for each refresh; this script
 * only swaps the fragments ([data-fragment]) in, keeps the route table sorted by
 * the raw values its rows carry (data-count, data-p95 ...), draws the charts
 * with uPlot, switches the time window without a reload and refreshes every 5 s.
 * Nothing here formats a figure.
 */
(function () {
  "use strict";

  var root = document.getElementById("ps-dashboard");
  var dataNode = document.getElementById("ps-dashboard-data");
  if (!root || !dataNode) {
    return;
  }

  var feedUrl = root.getAttribute("data-fragments-url") || "fragments.json";
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

  function isNum(value) {
    return typeof value === "number" && isFinite(value);
  }

  function clock(epoch) {
    return isNum(epoch) ? new Date(epoch * 1000).toLocaleTimeString() : DASH;
  }

  // -- fragments ------------------------------------------------------------

  function swapFragments(html) {
    root.querySelectorAll("[data-fragment]").forEach(function (node) {
      var name = node.getAttribute("data-fragment");
      if (Object.prototype.hasOwnProperty.call(html, name)) {
        // Server-rendered by Django templates (autoescaped): no user data unescaped.
        node.innerHTML = html[name];
      }
    });
  }

  function showError(message) {
    var node = document.getElementById("ps-error");
    if (!node) {
      return;
    }
    node.textContent = message || "";
    node.hidden = !message;
  }

  // -- route table (sortable by the values its rows carry) --------------------

  function rowValue(row, key) {
    var raw = row.getAttribute("data-" + key);
    if (key === "route") {
      return raw || "";
    }
    var value = raw === null || raw === "" ? NaN : parseFloat(raw);
    return isNum(value) ? value : null;
  }

  function sortRoutes() {
    var table = document.getElementById("ps-routes");
    if (!table) {
      return;
    }
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr[data-route]"));
    var key = state.sortKey;
    var sign = state.sortDir === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      var x = rowValue(a, key);
      var y = rowValue(b, key);
      var byName = rowValue(a, "route").localeCompare(rowValue(b, "route"));
      if (key === "route") {
        return byName * sign;
      }
      if (x === null || y === null) {
        return x === y ? byName : x === null ? 1 : -1; // missing figures sort last
      }
      return (x - y) * sign || byName;
    });
    rows.forEach(function (row) {
      tbody.appendChild(row);
    });
    table.querySelectorAll("thead th[data-sort]").forEach(function (th) {
      if (th.getAttribute("data-sort") === key) {
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
        sortRoutes();
      });
    });
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
    var span = document.getElementById("ps-chart-span");
    if (span) {
      span.textContent = spanLabel(series.x);
    }
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

  function render(body) {
    state.data = body;
    if (body.html) {
      swapFragments(body.html);
    }
    sortRoutes();
    renderCharts(body);
    showError(body.error);
    root.setAttribute("data-generated-at", String(body.generated_at || ""));
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
