// The waiting-room display: the server pushes every "call next" and check-in of this hospital
// over a WebSocket; the board then reloads (htmx, on the `display-refresh` event) and the
// called number flashes. The board also reloads every 15 s, which covers lost pushes and the
// in-memory channel layer of the embedded default (it cannot carry a worker's push).
// A number newly called, seen by a push or by a reload, is also spoken in Chinese once sound
// is enabled: browsers let a page speak only after a tap on it, hence the one-time button.
(function () {
  "use strict";
  var root = document.querySelector("[data-display-socket]");
  if (!root) return;
  var path = root.getAttribute("data-display-socket");
  var flash = root.querySelector("[data-display-flash]");
  var soundButton = root.querySelector("[data-enable-sound]");
  var delay = 1000;
  var flashTimer = 0;
  var soundOn = false;
  var calling = readBoard();

  function refresh() {
    document.body.dispatchEvent(new CustomEvent("display-refresh"));
  }

  function lineOf(doctor) {
    return root.querySelector('[data-doctor="' + doctor + '"]');
  }

  function readBoard() {
    var seen = {};
    root.querySelectorAll("[data-doctor]").forEach(function (line) {
      seen[line.getAttribute("data-doctor")] = line.getAttribute("data-calling") || "";
    });
    return seen;
  }

  function speak(number, name, doctor) {
    if (!soundOn || !("speechSynthesis" in window)) return;
    var line = lineOf(doctor);
    var room = line && line.querySelector("[data-room]");
    var who = line && line.querySelector("[data-doctor-name]");
    var place = room ? room.textContent : who ? who.textContent : "";
    var sentence = (root.getAttribute("data-speech") || "{number} {name} {place}")
      .replace("{number}", number.split("").join(" "))
      .replace("{name}", name || "")
      .replace("{place}", place);
    var utterance = new SpeechSynthesisUtterance(sentence);
    utterance.lang = "zh-CN";
    utterance.rate = 0.9;
    window.speechSynthesis.speak(utterance);
  }

  function announce(message) {
    calling[String(message.doctor)] = message.number;
    speak(message.number, message.patient, message.doctor);
    if (!flash) return;
    // Name the doctor too: several doctors share one waiting room.
    var doctor = root.querySelector('[data-doctor="' + message.doctor + '"] [data-doctor-name]');
    flash.textContent = message.number + " " + message.patient + (doctor ? " → " + doctor.textContent : "");
    flash.hidden = false;
    if (flashTimer) window.clearTimeout(flashTimer);
    flashTimer = window.setTimeout(function () { flash.hidden = true; }, 10000);
  }

  // A reload that shows a number not announced yet (the push was lost, or never came: the
  // embedded default polls) speaks it.
  document.body.addEventListener("htmx:afterSettle", function () {
    var now = readBoard();
    Object.keys(now).forEach(function (doctor) {
      if (now[doctor] && now[doctor] !== calling[doctor]) {
        var line = lineOf(doctor);
        speak(now[doctor], line ? line.getAttribute("data-calling-name") : "", doctor);
      }
    });
    calling = now;
  });

  if (soundButton && "speechSynthesis" in window) {
    soundButton.hidden = false;
    soundButton.addEventListener("click", function () {
      soundOn = true;
      soundButton.hidden = true;
      // Speaking once inside the tap unlocks speech for the page.
      window.speechSynthesis.speak(new SpeechSynthesisUtterance(""));
    });
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
  if ("WebSocket" in window) connect();
})();
