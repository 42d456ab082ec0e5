// A text consult's thread, live: the server says "the thread changed" over a WebSocket and
// htmx fetches the messages again (the fetch is permission-checked; the socket carries no
// text). The thread also re-fetches itself every 20 s, which covers lost pushes and the
// in-memory channel layer.
(function () {
  "use strict";
  var thread = document.querySelector("[data-socket]");
  if (!thread || !("WebSocket" in window)) return;
  var path = thread.getAttribute("data-socket");
  var delay = 1000;

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + path);
    socket.addEventListener("open", function () {
      delay = 1000;
      document.body.setAttribute("data-thread-live", "connected");
    });
    socket.addEventListener("message", function (event) {
      try {
        var message = JSON.parse(event.data);
        if (message.type === "thread.changed") {
          document.body.dispatchEvent(new CustomEvent("thread-changed"));
          if (message.what === "closed") window.location.reload();
        }
      } catch (error) { /* a malformed frame changes nothing */ }
    });
    socket.addEventListener("close", function (event) {
      document.body.setAttribute("data-thread-live", "closed");
      // Refused or signed out: the next fetch of the page says why; do not retry.
      if (event.code === 4403 || event.code === 4401) return;
      delay = Math.min(delay * 2, 30000);
      window.setTimeout(connect, delay);
    });
  }
  connect();
})();
