// Live updates of the dg dev pages (no build step, no dependencies).
// - [data-host-stream] (overview): reloads the page when a location changes status, so its
//   error and traceback are rendered by the server.
// - [data-run-stream] (run page): appends each new event to the event log, updates the step
//   table and stdout/stderr, and shows the final status.
(function () {
  "use strict";

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value == null ? "" : String(value);
    return el;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function fmtTime(ts) {
    var d = new Date(ts * 1000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + " UTC";
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
    if (ev.type === "STEP_SUCCESS" && ev.duration_ms != null) return "took " + Math.round(ev.duration_ms) + " ms";
    return ev.message || ev.text || "";
  }

  function badge(status) {
    var b = text("span", status, "badge status-" + status.toLowerCase().replace(/_/g, "-"));
    b.setAttribute("data-status", status);
    return b;
  }

  function setStep(root, step, status) {
    var body = root.querySelector("[data-steps] tbody");
    if (!body) return;
    var row = null;
    body.querySelectorAll("tr[data-step]").forEach(function (r) {
      if (r.getAttribute("data-step") === step) row = r;
    });
    if (!row) {
      row = document.createElement("tr");
      row.setAttribute("data-step", step);
      var code = document.createElement("code");
      code.textContent = step;
      var td = document.createElement("td");
      td.appendChild(code);
      row.appendChild(td);
      row.appendChild(document.createElement("td"));
      row.appendChild(text("td", "", "small"));
      body.appendChild(row);
    }
    row.children[1].replaceChildren(badge(status));
  }

  function runStream(root) {
    var id = root.getAttribute("data-run-id");
    var after = root.getAttribute("data-after");
    var url = "/api/runs/" + encodeURIComponent(id) + "/stream" + (after ? "?after=" + encodeURIComponent(after) : "");
    var source = new EventSource(url);
    var log = root.querySelector("[data-events] tbody");
    source.addEventListener("event", function (e) {
      var record = JSON.parse(e.data);
      var ev = record.event;
      if (log && !log.querySelector('tr[data-event-id="' + record.storage_id + '"]')) {
        var row = document.createElement("tr");
        row.setAttribute("data-event-id", record.storage_id);
        row.setAttribute("data-type", ev.type);
        row.appendChild(text("td", fmtTime(ev.timestamp), "small"));
        var type = document.createElement("td");
        type.appendChild(text("code", ev.type));
        row.appendChild(type);
        var step = document.createElement("td");
        if (ev.step_key) step.appendChild(text("code", ev.step_key));
        row.appendChild(step);
        row.appendChild(text("td", message(ev)));
        log.appendChild(row);
      }
      if (ev.step_key) {
        var steps = { STEP_START: "STARTED", STEP_SUCCESS: "SUCCESS", STEP_FAILURE: "FAILURE", STEP_SKIPPED: "SKIPPED" };
        if (steps[ev.type]) setStep(root, ev.step_key, steps[ev.type]);
      }
      if (ev.type === "STDOUT" || ev.type === "STDERR") {
        var pre = root.querySelector(ev.type === "STDOUT" ? "[data-stdout]" : "[data-stderr]");
        if (pre) pre.textContent += ev.text;
      }
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
