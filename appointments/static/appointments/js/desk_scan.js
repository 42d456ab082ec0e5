// The desk's "scan with camera": read the QR code on the patient's phone with the device's
// camera (jsQR, vendored) and look the code up. Without a camera, or when it is refused, the
// code box stays the way in: a handheld scanner types the code and presses Enter.
(function () {
  "use strict";
  var start = document.querySelector("[data-scan-start]");
  var scanner = document.querySelector("[data-scanner]");
  var form = document.querySelector("[data-desk-lookup]");
  if (!start || !scanner || !form) return;
  var input = form.querySelector("input[name=code]");
  var media = navigator.mediaDevices;
  if (!media || !media.getUserMedia || typeof window.jsQR !== "function") return;
  start.hidden = false;

  var video = scanner.querySelector("video");
  var canvas = scanner.querySelector("canvas");
  var status = scanner.querySelector("[data-scan-status]");
  var stopButton = scanner.querySelector("[data-scan-stop]");
  var stream = null;
  var frame = 0;

  function say(key) {
    status.textContent = scanner.getAttribute("data-msg-" + key) || "";
  }

  function stop() {
    if (frame) window.cancelAnimationFrame(frame);
    frame = 0;
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.srcObject = null;
  }

  function found(text) {
    stop();
    say("found");
    input.value = text.trim();
    form.submit();
  }

  function tick() {
    frame = 0;
    if (!stream) return;
    if (video.readyState >= 2 && video.videoWidth) {
      // Small frames decode fast enough on a desk PC or a tablet.
      var scale = Math.min(1, 640 / video.videoWidth);
      var width = Math.round(video.videoWidth * scale);
      var height = Math.round(video.videoHeight * scale);
      canvas.width = width;
      canvas.height = height;
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, width, height);
      var image = context.getImageData(0, 0, width, height);
      var code = window.jsQR(image.data, width, height, { inversionAttempts: "dontInvert" });
      if (code && code.data) {
        found(code.data);
        return;
      }
    }
    frame = window.requestAnimationFrame(tick);
  }

  start.addEventListener("click", function () {
    scanner.hidden = false;
    video.hidden = false;
    say("looking");
    media
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (camera) {
        stream = camera;
        video.srcObject = camera;
        return video.play();
      })
      .then(function () {
        frame = window.requestAnimationFrame(tick);
      })
      .catch(function () {
        stop();
        video.hidden = true;
        say("denied");
        input.focus();
      });
  });

  stopButton.addEventListener("click", function () {
    stop();
    scanner.hidden = true;
    input.focus();
  });
})();
