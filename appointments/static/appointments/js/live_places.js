// Live places left on a doctor's page: the server pushes each changed slot's figures over a
// WebSocket; the grid also re-fetches itself every 20 s (htmx), which covers lost pushes and
// the in-memory channel layer.
(function () {
  "use strict";
  var grid = document.querySelector("[data-live-socket]");
  if (!grid || !("WebSocket" in window)) return;
  var path = grid.getAttribute("data-live-socket");
  var delay = 1000;

  function apply(message) {
    var cell = document.querySelector('[data-slot="' + message.slot + '"]');
    if (!cell) return;
    var open = cell.classList.contains("period-open");
    var full = cell.classList.contains("period-full");
    if (!open && !full) return; // closed or not yet released: nothing a push changes
    var book = cell.querySelector(".period-book");
    var fullLabel = cell.querySelector(".period-full-label");
    var places = cell.querySelector("[data-places]");
    if (places) places.textContent = String(message.public_left);
    var bookable = Boolean(message.bookable);
    cell.classList.toggle("period-open", bookable);
    cell.classList.toggle("period-full", !bookable);
    if (book) book.hidden = !bookable;
    if (fullLabel) fullLabel.hidden = bookable;
    // date_strip.js re-marks the day's part on the strip.
    cell.dispatchEvent(new CustomEvent("places-changed", { bubbles: true }));
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + path);
    socket.addEventListener("open", function () {
      delay = 1000;
      document.body.setAttribute("data-live-places", "connected");
    });
    socket.addEventListener("message", function (event) {
      try {
        var message = JSON.parse(event.data);
        if (message.type === "slot.places") apply(message);
      } catch (error) { /* a malformed frame changes nothing */ }
    });
    socket.addEventListener("close", function (event) {
      document.body.setAttribute("data-live-places", "closed");
      if (event.code === 4404) return; // no such doctor: do not retry
      delay = Math.min(delay * 2, 30000);
      window.setTimeout(connect, delay);
    });
  }
  connect();
})();
