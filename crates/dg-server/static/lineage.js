// dg dev: pan, zoom and hover for the lineage graph. No dependencies, no build step.
// Acts on every element with a `data-lineage` attribute that holds an `svg.lineage`.
(function () {
  "use strict";

  // Zooming out stops at half the fitted scale (or 0.05 when the graph fits better than that).
  var minScale = 0.05;
  var MAX_SCALE = 4;
  var DRAG_THRESHOLD = 4;

  function init(root) {
    var svg = root.querySelector("svg.lineage");
    if (!svg) return;
    var width = parseFloat(svg.getAttribute("data-width")) || 1;
    var height = parseFloat(svg.getAttribute("data-height")) || 1;
    var view = { x: 0, y: 0, scale: 1 };
    // Until the user pans or zooms, the graph stays fitted to the element, also when it resizes.
    var touched = false;

    function box() {
      var r = svg.getBoundingClientRect();
      return { w: Math.max(r.width, 1), h: Math.max(r.height, 1), left: r.left, top: r.top };
    }

    // The viewBox always has the aspect ratio of the element, so one scale maps both axes.
    function apply() {
      var b = box();
      svg.setAttribute("viewBox", [view.x, view.y, b.w / view.scale, b.h / view.scale].join(" "));
      svg.classList.toggle("far", view.scale < 0.35);
    }

    function fit() {
      var b = box();
      var pad = 16;
      view.scale = Math.max(Math.min((b.w - pad) / width, (b.h - pad) / height, 1.25), 1e-4);
      minScale = Math.min(0.05, view.scale / 2);
      view.x = (width - b.w / view.scale) / 2;
      view.y = (height - b.h / view.scale) / 2;
      apply();
    }

    // Zoom by `factor`, keeping the graph point under (cx, cy) (element pixels) in place.
    function zoomAt(factor, cx, cy) {
      touched = true;
      var gx = view.x + cx / view.scale;
      var gy = view.y + cy / view.scale;
      view.scale = Math.min(MAX_SCALE, Math.max(minScale, view.scale * factor));
      view.x = gx - cx / view.scale;
      view.y = gy - cy / view.scale;
      apply();
    }

    svg.addEventListener("wheel", function (e) {
      e.preventDefault();
      var b = box();
      var delta = e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? b.h : 1);
      zoomAt(Math.exp(-delta * 0.0015), e.clientX - b.left, e.clientY - b.top);
    }, { passive: false });

    var drag = null;
    var dragged = false;
    svg.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) return;
      drag = { id: e.pointerId, x: e.clientX, y: e.clientY, vx: view.x, vy: view.y, moving: false };
      dragged = false;
    });
    svg.addEventListener("pointermove", function (e) {
      if (!drag || e.pointerId !== drag.id) return;
      var dx = e.clientX - drag.x;
      var dy = e.clientY - drag.y;
      if (!drag.moving && Math.abs(dx) + Math.abs(dy) < DRAG_THRESHOLD) return;
      if (!drag.moving) {
        drag.moving = true;
        touched = true;
        try {
          svg.setPointerCapture(e.pointerId);
        } catch (err) {
          // Synthetic or already released pointers cannot be captured; panning still works.
        }
        svg.classList.add("dragging");
      }
      view.x = drag.vx - dx / view.scale;
      view.y = drag.vy - dy / view.scale;
      apply();
    });
    function endDrag(e) {
      if (!drag || e.pointerId !== drag.id) return;
      dragged = drag.moving;
      drag = null;
      svg.classList.remove("dragging");
    }
    svg.addEventListener("pointerup", endDrag);
    svg.addEventListener("pointercancel", endDrag);
    // A drag that ends on a node must not open the node's page.
    svg.addEventListener("click", function (e) {
      if (dragged) {
        e.preventDefault();
        e.stopPropagation();
        dragged = false;
      }
    }, true);

    root.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var b = box();
        var action = button.getAttribute("data-zoom");
        if (action === "fit") { touched = false; fit(); }
        else zoomAt(action === "in" ? 1.25 : 0.8, b.w / 2, b.h / 2);
      });
    });

    // Hover: highlight the edges of the node under the pointer.
    var edgesOf = null;
    function index() {
      edgesOf = {};
      svg.querySelectorAll("path.edge").forEach(function (path) {
        [path.getAttribute("data-from"), path.getAttribute("data-to")].forEach(function (i) {
          (edgesOf[i] = edgesOf[i] || []).push(path);
        });
      });
    }
    var lit = [];
    function clear() {
      lit.forEach(function (p) { p.classList.remove("hl"); });
      lit = [];
      svg.classList.remove("focus");
    }
    svg.addEventListener("pointerover", function (e) {
      var node = e.target.closest && e.target.closest("a.node");
      if (!node || drag) return;
      if (!edgesOf) index();
      clear();
      lit = edgesOf[node.getAttribute("data-i")] || [];
      lit.forEach(function (p) { p.classList.add("hl"); });
      svg.classList.add("focus");
    });
    svg.addEventListener("pointerout", function (e) {
      var node = e.target.closest && e.target.closest("a.node");
      if (node && !node.contains(e.relatedTarget)) clear();
    });

    function resized() { if (touched) apply(); else fit(); }
    if (window.ResizeObserver) new ResizeObserver(resized).observe(svg);
    else window.addEventListener("resize", resized);
    fit();
  }

  function start() {
    document.querySelectorAll("[data-lineage]").forEach(init);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
