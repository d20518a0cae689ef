// Test probe, loaded after lineage.js: drives the graph with real DOM events and writes what
// happened as JSON into <pre id="probe">, which the Rust test reads from Chromium's --dump-dom.
window.addEventListener("load", function () {
  var out = { errors: [] };
  window.addEventListener("error", function (e) { out.errors.push(String(e.message)); });
  // Record whether clicks were cancelled, then cancel them so the page never navigates away.
  var clicks = [];
  var dispatched = 0;
  window.addEventListener("click", function () { dispatched += 1; }, true);
  document.addEventListener("click", function (e) {
    clicks.push(e.defaultPrevented);
    e.preventDefault();
  });
  function box() {
    return svg.getAttribute("viewBox").split(" ").map(Number);
  }
  var svg = document.querySelector("svg.lineage");
  var r = svg.getBoundingClientRect();
  out.canvas = [r.width, r.height];
  out.fitted = box();

  svg.dispatchEvent(new WheelEvent("wheel", {
    deltaY: -300, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2,
    bubbles: true, cancelable: true,
  }));
  out.zoomed = box();

  var node = svg.querySelector("a.node");
  var at = { clientX: r.left + 200, clientY: r.top + 200, bubbles: true };
  function pointer(type, dx, dy) {
    node.dispatchEvent(new PointerEvent(type, {
      pointerId: 7, button: 0, bubbles: true, clientX: at.clientX + dx, clientY: at.clientY + dy,
    }));
  }
  pointer("pointerdown", 0, 0);
  pointer("pointermove", 30, 10);
  pointer("pointermove", 60, 20);
  pointer("pointerup", 60, 20);
  out.panned = box();
  node.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true }));
  node.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true }));
  out.clicks = clicks.slice();
  out.dispatched = dispatched;

  node.dispatchEvent(new PointerEvent("pointerover", { bubbles: true }));
  var i = node.getAttribute("data-i");
  out.highlighted = svg.querySelectorAll("path.edge.hl").length;
  out.expected = svg.querySelectorAll('path.edge[data-from="' + i + '"], path.edge[data-to="' + i + '"]').length;
  out.focus = svg.classList.contains("focus");

  document.querySelector('[data-zoom="out"]').click();
  out.zoomedOut = box();
  document.querySelector('[data-zoom="fit"]').click();
  out.refitted = box();
  out.href = node.getAttribute("href");

  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
