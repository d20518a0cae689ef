// Live updates of the dg dev pages (no build step, no dependencies).
// - [data-host-stream] (overview): reloads the page when a location changes status, so its
//   error and traceback are rendered by the server.
// - [data-run-stream] (run page): appends each new event to the event log (times to the
//   millisecond, tracebacks folded), updates the steps and their timeline bars, stdout/stderr
//   (stored output events, and `output` messages for output storage does not keep as events),
//   refreshes "Captured output" from `/api/runs/{id}/logs` (at most every 1.5 s while events
//   come, and once at the end), and shows the final status.
(function () {
  "use strict";

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value == null ? "" : String(value);
    return el;
  }

  function pad(n, width) {
    var s = String(n);
    while (s.length < (width || 2)) s = "0" + s;
    return s;
  }
  function fmtTime(ts) {
    var d = new Date(ts * 1000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + " UTC";
  }
  // Time of day to the millisecond, as the server renders the event log.
  function fmtClock(ts) {
    var ms = Math.round(ts * 1000) % 86400000;
    return pad(Math.floor(ms / 3600000)) + ":" + pad(Math.floor(ms / 60000) % 60) + ":" +
      pad(Math.floor(ms / 1000) % 60) + "." + pad(ms % 1000, 3);
  }
  function fmtDuration(seconds) {
    if (seconds < 1) return Math.round(seconds * 1000) + " ms";
    if (seconds < 60) return seconds.toFixed(1) + " s";
    var s = Math.round(seconds);
    return Math.floor(s / 60) + " min " + pad(s % 60) + " s";
  }

  function message(ev) {
    if (ev.error && ev.error.message) return ev.error.message;
    if (ev.type === "ASSET_MATERIALIZATION") {
      var key = (ev.asset_key || []).join("/");
      return "materialized " + key + (ev.partition ? " (partition " + ev.partition + ")" : "");
    }
    if (ev.type === "ASSET_OBSERVATION") return "observed " + (ev.asset_key || []).join("/");
    if (ev.type === "ASSET_CHECK_EVALUATION") {
      return "check " + (ev.asset_key || []).join("/") + ":" + ev.check_name + (ev.passed ? " passed" : " failed");
    }
    if (ev.type === "STEP_SUCCESS" && ev.duration_ms != null) return "took " + fmtDuration(ev.duration_ms / 1000);
    return ev.message || ev.text || "";
  }

  var ROW_CLASS = {
    RUN_FAILURE: "ev-failure", STEP_FAILURE: "ev-failure", RUN_SUCCESS: "ev-success",
    STEP_SUCCESS: "ev-success", STDERR: "ev-stderr", STDOUT: "ev-output", ENGINE_EVENT: "ev-engine"
  };

  function messageCell(ev) {
    var td = document.createElement("td");
    td.className = "message";
    if (ev.type === "LOG" && ev.level) {
      var level = String(ev.level).toUpperCase();
      td.appendChild(text("span", level, "level level-" + level.toLowerCase()));
      td.appendChild(document.createTextNode(" "));
    }
    td.appendChild(document.createTextNode(message(ev)));
    if (ev.error && ev.error.stack && ev.error.stack.length) {
      var details = document.createElement("details");
      details.appendChild(text("summary", "Traceback"));
      var lines = ev.error.stack.map(function (entry) { return /\n$/.test(entry) ? entry : entry + "\n"; });
      details.appendChild(text("pre", lines.join(""), "traceback"));
      td.appendChild(details);
    }
    return td;
  }

  function badge(status) {
    var b = text("span", status, "badge status-" + status.toLowerCase().replace(/_/g, "-"));
    b.setAttribute("data-status", status);
    return b;
  }

  // Steps: status badge, duration and a bar on the run's time axis (a 0..1000 SVG view box).
  function stepRow(root, step) {
    var body = root.querySelector("[data-steps] tbody");
    if (!body) return null;
    var row = null;
    body.querySelectorAll("tr[data-step]").forEach(function (r) {
      if (r.getAttribute("data-step") === step) row = r;
    });
    if (!row) {
      row = document.createElement("tr");
      row.setAttribute("data-step", step);
      var td = document.createElement("td");
      td.appendChild(text("code", step));
      row.appendChild(td);
      row.appendChild(document.createElement("td"));
      row.appendChild(text("td", "", "small"));
      var cell = document.createElement("td");
      cell.className = "timeline";
      var svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("class", "step-bar");
      svg.setAttribute("viewBox", "0 0 1000 10");
      svg.setAttribute("preserveAspectRatio", "none");
      cell.appendChild(svg);
      row.appendChild(cell);
      body.appendChild(row);
    }
    return row;
  }
  var SVG = "http://www.w3.org/2000/svg";

  function setStep(root, step, status, ts) {
    var row = stepRow(root, step);
    if (!row) return;
    row.children[1].replaceChildren(badge(status));
    if (status === "STARTED") row.setAttribute("data-start", ts);
    if (status === "SUCCESS" || status === "FAILURE") {
      row.setAttribute("data-end", ts);
      var start = parseFloat(row.getAttribute("data-start"));
      if (!isNaN(start)) row.children[2].textContent = fmtDuration(ts - start);
    }
  }

  function drawBars(root, now) {
    var table = root.querySelector("[data-steps]");
    if (!table) return;
    var t0 = parseFloat(root.getAttribute("data-t0"));
    var t1 = Math.max(parseFloat(table.getAttribute("data-t1")) || 0, now || 0);
    table.setAttribute("data-t1", t1);
    if (!(t1 > t0)) return;
    table.querySelectorAll("tr[data-step]").forEach(function (row) {
      var start = parseFloat(row.getAttribute("data-start"));
      var svg = row.querySelector("svg.step-bar");
      if (isNaN(start) || !svg) return;
      var end = parseFloat(row.getAttribute("data-end"));
      if (isNaN(end)) end = t1;
      var x = Math.min(Math.max((start - t0) / (t1 - t0) * 1000, 0), 1000);
      var w = Math.min(Math.max((end - start) / (t1 - t0) * 1000, 2), 1000 - x);
      var rect = svg.querySelector("rect");
      if (!rect) {
        rect = document.createElementNS(SVG, "rect");
        rect.setAttribute("y", "0");
        rect.setAttribute("height", "10");
        rect.setAttribute("rx", "2");
        svg.appendChild(rect);
      }
      var badgeEl = row.querySelector(".badge");
      var status = badgeEl ? badgeEl.getAttribute("data-status") : "STARTED";
      rect.setAttribute("class", "bar status-" + status.toLowerCase());
      rect.setAttribute("x", x.toFixed(1));
      rect.setAttribute("width", w.toFixed(1));
    });
  }

  // "Captured output": the same markup as the server's (render/captured.rs), all text escaped.
  function capturedBlock(log) {
    var block = document.createElement("div");
    block.className = "capture";
    block.setAttribute("data-log-key", log.log_key);
    var h3 = document.createElement("h3");
    if (!log.step_keys.length) {
      h3.appendChild(document.createTextNode("Log "));
      h3.appendChild(text("code", log.log_key));
    } else {
      h3.appendChild(document.createTextNode(log.step_keys.length === 1 ? "Step " : "Steps "));
      log.step_keys.forEach(function (step, i) {
        if (i > 0) h3.appendChild(document.createTextNode(", "));
        h3.appendChild(text("code", step));
      });
    }
    h3.appendChild(document.createTextNode(" "));
    if (!log.complete) {
      var capturing = text("span", "capturing", "badge status-started");
      capturing.setAttribute("data-capturing", "");
      h3.appendChild(capturing);
    }
    block.appendChild(h3);
    var columns = document.createElement("div");
    columns.className = "columns";
    [["stdout", "output", "data-capture-stdout"], ["stderr", "output stderr", "data-capture-stderr"]].forEach(function (c) {
      var section = document.createElement("section");
      section.appendChild(text("h4", c[0]));
      var pre = text("pre", log[c[0]], c[1]);
      pre.setAttribute(c[2], "");
      pre.setAttribute("data-empty", "nothing printed");
      section.appendChild(pre);
      columns.appendChild(section);
    });
    block.appendChild(columns);
    if (log.truncated) block.appendChild(text("p", "Only the last 1 MiB of each stream is shown.", "small"));
    return block;
  }

  function showCaptured(body, answer) {
    if (answer.status === "not_shown") {
      body.replaceChildren(text("p", answer.reason, "hint"));
    } else if (!answer.logs.length) {
      var empty = text("p", "Nothing captured yet.", "small");
      empty.setAttribute("data-captured-empty", "");
      body.replaceChildren(empty);
    } else {
      body.replaceChildren.apply(body, answer.logs.map(capturedBlock));
    }
  }

  // Fetches the captured output now, or soon if a fetch went out less than 1.5 s ago.
  function capturedRefresher(root, id) {
    var body = root.querySelector("[data-captured-body]");
    var last = 0, timer = null, busy = false;
    function fetchNow() {
      timer = null;
      if (busy) { timer = setTimeout(fetchNow, 300); return; }
      busy = true;
      last = Date.now();
      fetch("/api/runs/" + encodeURIComponent(id) + "/logs", { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (answer) { if (answer) showCaptured(body, answer); })
        .catch(function () {})
        .then(function () {
          busy = false;
          root.setAttribute("data-captured-fetched", String(Date.now()));
        });
    }
    return function () {
      if (!body || timer) return;
      timer = setTimeout(fetchNow, Math.max(0, 1500 - (Date.now() - last)));
    };
  }

  function runStream(root) {
    var id = root.getAttribute("data-run-id");
    var after = root.getAttribute("data-after");
    var url = "/api/runs/" + encodeURIComponent(id) + "/stream" + (after ? "?after=" + encodeURIComponent(after) : "");
    var source = new EventSource(url);
    var log = root.querySelector("[data-events] tbody");
    var refreshCaptured = capturedRefresher(root, id);
    function appendOutput(ev) {
      var pre = root.querySelector(ev.type === "STDOUT" ? "[data-stdout]" : "[data-stderr]");
      if (pre) pre.textContent += ev.text;
    }
    source.addEventListener("output", function (e) {
      appendOutput(JSON.parse(e.data).event);
      refreshCaptured();
    });
    source.addEventListener("event", function (e) {
      refreshCaptured();
      var record = JSON.parse(e.data);
      var ev = record.event;
      if (log && !log.querySelector('tr[data-event-id="' + record.storage_id + '"]')) {
        var row = document.createElement("tr");
        row.setAttribute("data-event-id", record.storage_id);
        row.setAttribute("data-type", ev.type);
        row.className = ROW_CLASS[ev.type] || "ev";
        var time = text("td", fmtClock(ev.timestamp), "small time");
        time.title = fmtTime(ev.timestamp);
        row.appendChild(time);
        var type = document.createElement("td");
        type.appendChild(text("code", ev.type));
        row.appendChild(type);
        var step = document.createElement("td");
        if (ev.step_key) step.appendChild(text("code", ev.step_key));
        row.appendChild(step);
        row.appendChild(messageCell(ev));
        log.appendChild(row);
      }
      if (ev.type === "RUN_START" && !(parseFloat(root.getAttribute("data-t0")) > 0)) {
        root.setAttribute("data-t0", ev.timestamp);
      }
      if (ev.step_key) {
        var steps = { STEP_START: "STARTED", STEP_SUCCESS: "SUCCESS", STEP_FAILURE: "FAILURE", STEP_SKIPPED: "SKIPPED" };
        if (steps[ev.type]) setStep(root, ev.step_key, steps[ev.type], ev.timestamp);
      }
      drawBars(root, ev.timestamp);
      if (ev.type === "STDOUT" || ev.type === "STDERR") appendOutput(ev);
      var runStatus = { RUN_START: "STARTED", RUN_CANCELING: "CANCELING" }[ev.type];
      if (runStatus) root.querySelector("[data-run-status]").replaceChildren(badge(runStatus));
    });
    source.addEventListener("end", function (e) {
      source.close();
      var status = JSON.parse(e.data).status;
      if (status) root.querySelector("[data-run-status]").replaceChildren(badge(status));
      var cancel = root.querySelector("[data-cancel]");
      if (cancel) cancel.remove();
      root.setAttribute("data-finished", status || "");
      refreshCaptured();
    });
  }

  function hostStream(root) {
    var source = new EventSource("/api/stream");
    source.addEventListener("location", function (e) {
      var change = JSON.parse(e.data);
      var row = null;
      root.querySelectorAll("tr[data-location]").forEach(function (r) {
        if (r.getAttribute("data-location") === change.name) row = r;
      });
      var shown = row ? row.getAttribute("data-status") : null;
      var generation = row ? row.getAttribute("data-generation") : null;
      if (shown !== change.status.toUpperCase() || generation !== String(change.generation)) {
        source.close();
        window.location.reload();
      }
    });
    source.addEventListener("locations", function (e) {
      // The state when the stream opened: reload if it moved on since the page was rendered.
      JSON.parse(e.data).forEach(function (loc) {
        root.querySelectorAll("tr[data-location]").forEach(function (r) {
          if (r.getAttribute("data-location") === loc.name &&
              (r.getAttribute("data-status") !== loc.status.toUpperCase() ||
               r.getAttribute("data-generation") !== String(loc.generation))) {
            source.close();
            window.location.reload();
          }
        });
      });
    });
  }

  function start() {
    document.querySelectorAll("[data-run-stream]").forEach(runStream);
    document.querySelectorAll("[data-host-stream]").forEach(hostStream);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
