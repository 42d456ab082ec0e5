// The waiting-room display: the server pushes every "call next" and check-in of this hospital
// over a WebSocket; the board then reloads (htmx, on the `display-refresh` event) and the
// called number flashes. The board also reloads every 15 s, which covers lost pushes and the
// in-memory channel layer of the embedded default (it cannot carry a worker's push).
(function () {
  "use strict";
  var root = document.querySelector("[data-display-socket]");
  if (!root || !("WebSocket" in window)) return;
  var path = root.getAttribute("data-display-socket");
  var flash = root.querySelector("[data-display-flash]");
  var delay = 1000;
  var flashTimer = 0;

  function refresh() {
    document.body.dispatchEvent(new CustomEvent("display-refresh"));
  }

  function announce(message) {
    if (!flash) return;
    // Name the doctor too: several doctors share one waiting room.
    var doctor = root.querySelector('[data-doctor="' + message.doctor + '"] [data-doctor-name]');
    flash.textContent = message.number + " " + message.patient + (doctor ? " → " + doctor.textContent : "");
    flash.hidden = false;
    if (flashTimer) window.clearTimeout(flashTimer);
    flashTimer = window.setTimeout(function () { flash.hidden = true; }, 10000);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + path);
    socket.addEventListener("open", function () {
      delay = 1000;
      document.body.setAttribute("data-live-display", "connected");
    });
    socket.addEventListener("message", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (error) { return; }
      if (message.type === "queue.called") announce(message);
      if (message.type === "queue.called" || message.type === "queue.changed") refresh();
    });
    socket.addEventListener("close", function (event) {
      document.body.setAttribute("data-live-display", "closed");
      if (event.code === 4403) return; // not this hospital's staff (or signed out): no retry
      delay = Math.min(delay * 2, 30000);
      window.setTimeout(connect, delay);
    });
  }
  connect();
})();
