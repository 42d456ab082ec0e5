// The unread badge in the header: pushed over /ws/notifications/ and, since a push can be lost
// (and the in-memory channel layer carries none from the worker), polled as well.
(function () {
  "use strict";
  var root = document.querySelector("[data-inbox-badge][data-poll-url]");
  if (!root) return;
  var pollUrl = root.getAttribute("data-poll-url");
  var pollSeconds = parseInt(root.getAttribute("data-poll-seconds"), 10) || 30;
  var delay = 1000;

  function show(count) {
    document.querySelectorAll("[data-inbox-badge]").forEach(function (badge) {
      badge.textContent = count > 99 ? "99+" : String(count);
      badge.hidden = count < 1;
    });
  }

  function poll() {
    if (!window.fetch || document.hidden) return;
    fetch(pollUrl, { credentials: "same-origin", headers: { Accept: "application/json", "X-Portal-Background": "1" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && typeof data.unread === "number") show(data.unread); })
      .catch(function () { /* offline: try again at the next tick */ });
  }
  window.setInterval(poll, pollSeconds * 1000);

  function connect() {
    if (!("WebSocket" in window)) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/notifications/");
    socket.addEventListener("open", function () {
      delay = 1000;
      document.body.setAttribute("data-inbox-live", "connected");
    });
    socket.addEventListener("message", function (event) {
      try {
        var message = JSON.parse(event.data);
        if (message.type === "inbox.unread") show(message.unread);
      } catch (error) { /* a malformed frame changes nothing */ }
    });
    socket.addEventListener("close", function (event) {
      document.body.setAttribute("data-inbox-live", "closed");
      if (event.code === 4403) return; // signed out: do not retry
      delay = Math.min(delay * 2, 30000);
      window.setTimeout(connect, delay);
    });
  }
  connect();
})();
