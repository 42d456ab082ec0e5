// The confirmation page says how long the held place stays held (minutes:seconds).
(function () {
  "use strict";
  var node = document.querySelector("[data-countdown]");
  if (!node) return;
  var end = Date.parse(node.getAttribute("data-countdown"));
  if (isNaN(end)) return;
  function tick() {
    var left = Math.round((end - Date.now()) / 1000);
    if (left <= 0) {
      node.textContent = node.getAttribute("data-expired");
      return;
    }
    var minutes = Math.floor(left / 60);
    var seconds = left % 60;
    node.textContent = "(" + minutes + ":" + (seconds < 10 ? "0" : "") + seconds + ")";
    window.setTimeout(tick, 1000);
  }
  tick();
})();
