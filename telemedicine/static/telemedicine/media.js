// What the two consult rooms share (room.js: patient and doctor; mesh.js: a remote consultation
// of up to four browsers): the camera and microphone with their mute buttons, the ICE servers,
// the chat list and form, the DTLS fingerprint of an offer, and the signalling socket. Loaded before either room's
// script; a local file, like every script of the portal (the CSP allows no other).
(function () {
  "use strict";

  // The camera and microphone, or the microphone alone, or nothing (then null). The mute
  // buttons are enabled for what was granted and switch the tracks of the stream in hand.
  async function startMedia(options) {
    let stream = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: options.video || true, audio: true });
    } catch (error) {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (again) {
        stream = null;
      }
    }
    const hasVideo = !!(stream && stream.getVideoTracks().length);
    const hasAudio = !!(stream && stream.getAudioTracks().length);
    if (stream) options.localVideo.srcObject = stream;
    options.micButton.disabled = !hasAudio;
    options.cameraButton.disabled = !hasVideo;
    return { stream: stream, video: hasVideo, audio: hasAudio };
  }

  function toggle(button, tracks, pressedText, releasedText) {
    const pressed = button.getAttribute("aria-pressed") !== "true";
    tracks().forEach((track) => { track.enabled = !pressed; });
    button.setAttribute("aria-pressed", String(pressed));
    button.textContent = pressed ? pressedText : releasedText;
  }

  // `stream()` gives the local stream at the time of the click (null before media started).
  function wireMuteButtons(options) {
    const text = options.text;
    options.micButton.addEventListener("click", function () {
      const stream = options.stream();
      if (stream) toggle(options.micButton, () => stream.getAudioTracks(), text.unmute, text.mute);
    });
    options.cameraButton.addEventListener("click", function () {
      const stream = options.stream();
      if (stream) {
        toggle(options.cameraButton, () => stream.getVideoTracks(), text.camera_on, text.camera_off);
      }
    });
  }

  // The STUN/TURN servers (short-lived TURN credentials from the page's `data-ice` address);
  // none when they cannot be fetched: a call on one network still connects.
  async function loadIceServers(url) {
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.ok) return (await response.json()).iceServers || [];
    } catch (error) {
      // fall through
    }
    return [];
  }

  // A fresh page on the other side brings a new DTLS identity: its offer starts a new connection.
  function fingerprint(sdp) {
    const match = /a=fingerprint:(.+)/.exec(sdp || "");
    return match ? match[1].trim() : "";
  }

  // The chat: `send` sends a frame; returns `show(message)`, which lists a message once.
  function wireChat(options) {
    const text = options.text;
    const seen = new Set();
    options.form.addEventListener("submit", function (event) {
      event.preventDefault();
      const value = options.input.value.trim();
      if (!value) return;
      options.send({ type: "chat", text: value });
      options.input.value = "";
    });
    return function show(message) {
      if (seen.has(message.id)) return;
      seen.add(message.id);
      const item = document.createElement("li");
      item.className = "chat-message chat-from-" + message.from;
      const who = document.createElement("span");
      who.className = "chat-who";
      who.textContent = message.from === options.role ? text.you : (text[message.from] || message.from);
      const at = document.createElement("time");
      at.dateTime = message.at;
      at.textContent = new Date(message.at).toLocaleTimeString(
        document.documentElement.lang || [], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      const body = document.createElement("p");
      body.textContent = message.text;
      item.append(who, " ", at, body);
      options.log.append(item);
      options.log.scrollTop = options.log.scrollHeight;
    };
  }

  // The consult socket (`path`), opened again with a backoff of up to 10 s when it drops. A close
  // with 4401 (signed out elsewhere: logout, password change) reloads onto the sign-in page;
  // 4403 (refused), or a drop once `stopped()`, calls `onStop` and ends the retries. Returns
  // `send(frame)`, which drops a frame while the socket is down.
  function openSocket(options) {
    let socket = null;
    let tries = 0;
    function connect() {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + options.path);
      socket.addEventListener("open", function () {
        tries = 0;
        options.onOpen();
      });
      socket.addEventListener("message", function (event) {
        options.onMessage(JSON.parse(event.data)).catch(function (error) { console.error(error); });
      });
      socket.addEventListener("close", function (event) {
        if (event.code === 4401) {
          window.location.reload();
          return;
        }
        if (event.code === 4403 || options.stopped()) {
          options.onStop();
          return;
        }
        options.onRetry();
        tries += 1;
        setTimeout(connect, Math.min(10000, 500 * 2 ** tries));
      });
    }
    connect();
    return function send(frame) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
    };
  }

  window.consultMedia = {
    openSocket: openSocket,
    startMedia: startMedia,
    wireMuteButtons: wireMuteButtons,
    loadIceServers: loadIceServers,
    fingerprint: fingerprint,
    wireChat: wireChat,
  };
})();
