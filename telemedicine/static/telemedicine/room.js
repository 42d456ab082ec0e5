// The consult room: pre-call check, waiting room, WebRTC video both ways over the signalling
// socket /ws/consult/<uuid>/ (DESIGN.md §4), chat, and a state line. The doctor offers when they
// admit; a peer that (re)joins a live consult offers again with an ICE restart, so the other side
// never reloads. When the video cannot connect, the chat carries the consult.
(function () {
  "use strict";

  const room = document.getElementById("consult");
  if (!room) return;
  const shared = window.consultMedia;
  const text = JSON.parse(document.getElementById("consult-i18n").textContent);
  const role = room.dataset.role;
  const isDoctor = role === "doctor";
  const other = isDoctor ? "patient" : "doctor";
  const stateLine = document.getElementById("consult-state");
  const localVideo = document.getElementById("local-video");
  const remoteVideo = document.getElementById("remote-video");
  const placeholder = document.getElementById("video-placeholder");
  const chatLog = document.getElementById("chat-log");
  const chatForm = document.getElementById("chat-form");
  const chatText = document.getElementById("chat-text");
  const admitButton = document.getElementById("admit");
  const endButton = document.getElementById("end");
  const micButton = document.getElementById("toggle-mic");
  const cameraButton = document.getElementById("toggle-camera");
  const presenceNote = document.getElementById("patient-presence");
  const waitingNote = document.getElementById("waiting-note");

  let localStream = null;
  let pc = null;
  let iceServers = [];
  let live = room.dataset.status === "live";
  let ended = room.dataset.status === "ended";
  let present = [];
  let offerWhenPresent = false;
  let joinPending = false;
  let restartTimer = null;

  function setState(state, message) {
    stateLine.dataset.state = state;
    stateLine.textContent = message || text[state] || state;
  }

  function setCheck(name, ok) {
    const item = document.querySelector('[data-check="' + name + '"]');
    if (!item) return;
    item.dataset.ok = ok ? "yes" : "no";
    item.querySelector(".check-result").textContent = ok ? text.ok : text.not_ok;
  }

  // --- Camera, microphone and ICE servers (media.js) ---------------------------------------
  async function startMedia() {
    const media = await shared.startMedia({ localVideo, micButton, cameraButton });
    localStream = media.stream;
    setCheck("camera", media.video);
    setCheck("microphone", media.audio);
    if (!localStream) setState("failed", text.no_media);
  }

  shared.wireMuteButtons({ micButton, cameraButton, text, stream: () => localStream });

  async function loadIceServers() {
    iceServers = await shared.loadIceServers(room.dataset.ice);
  }

  // --- The peer connection ------------------------------------------------------------------
  function newPeer() {
    if (pc) pc.close();
    pc = new RTCPeerConnection({ iceServers: iceServers });
    room.dataset.peerState = pc.connectionState;
    if (localStream) localStream.getTracks().forEach((track) => pc.addTrack(track, localStream));
    pc.addEventListener("icecandidate", function (event) {
      if (event.candidate) send({ type: "ice", candidate: event.candidate.toJSON() });
    });
    pc.addEventListener("track", function (event) {
      remoteVideo.srcObject = event.streams[0] || new MediaStream([event.track]);
      placeholder.hidden = true;
    });
    const mine = pc;
    pc.addEventListener("connectionstatechange", function () {
      if (mine !== pc) return;
      room.dataset.peerState = pc.connectionState;
      onPeerState(pc.connectionState);
    });
    return pc;
  }

  function onPeerState(state) {
    clearTimeout(restartTimer);
    if (state === "connected") {
      setState("connected");
    } else if (state === "disconnected") {
      setState("reconnecting");
      // Give the network a moment, then renegotiate with an ICE restart.
      restartTimer = setTimeout(function () { if (isDoctor) offer(true); }, 3000);
    } else if (state === "failed") {
      if (isDoctor && present.includes(other)) {
        setState("reconnecting");
        offer(true);
        restartTimer = setTimeout(function () {
          if (pc && pc.connectionState !== "connected") setState("failed");
        }, 15000);
      } else {
        setState("failed");
      }
    }
  }

  async function offer(iceRestart) {
    if (!live || ended) return;
    if (!pc || pc.connectionState === "closed") newPeer();
    if (pc.signalingState !== "stable") return;
    const description = await pc.createOffer({ iceRestart: !!iceRestart });
    await pc.setLocalDescription(description);
    send({ type: "offer", sdp: pc.localDescription.sdp });
  }

  async function onOffer(sdp) {
    // A fresh page on the other side brings a new DTLS identity: start a new connection.
    if (!pc || pc.connectionState === "closed" ||
        (pc.remoteDescription && shared.fingerprint(pc.remoteDescription.sdp) !== shared.fingerprint(sdp))) {
      newPeer();
    }
    if (pc.signalingState === "have-local-offer") {
      if (isDoctor) return; // the doctor's own offer wins; the patient answers it
      await pc.setLocalDescription({ type: "rollback" });
    }
    await pc.setRemoteDescription({ type: "offer", sdp: sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    send({ type: "answer", sdp: pc.localDescription.sdp });
  }

  async function onAnswer(sdp) {
    if (pc && pc.signalingState === "have-local-offer") {
      await pc.setRemoteDescription({ type: "answer", sdp: sdp });
    }
  }

  async function onIce(candidate) {
    if (!pc) return;
    try {
      await pc.addIceCandidate(candidate);
    } catch (error) {
      // A candidate of an earlier negotiation: harmless.
    }
  }

  // --- Signalling (media.js) ---------------------------------------------------------------
  let sendFrame = null;
  function send(frame) {
    if (sendFrame) sendFrame(frame);
  }

  function connect() {
    sendFrame = shared.openSocket({
      path: room.dataset.socket,
      onOpen: function () {
        setCheck("signalling", true);
        joinPending = true;
        send({ type: "join" });
      },
      onMessage: handle,
      stopped: () => ended,
      onStop: function () { if (!ended) setState("failed"); },
      onRetry: function () {
        setCheck("signalling", false);
        setState("reconnecting");
      },
    });
  }

  async function handle(message) {
    switch (message.type) {
      case "presence":
        onPresence(message.participants);
        break;
      case "admitted": {
        const rejoin = joinPending;
        live = true;
        document.body.classList.add("consult-live");
        if (admitButton) admitButton.hidden = true;
        if (presenceNote) presenceNote.textContent = text.patient_in_call;
        if (waitingNote) waitingNote.hidden = true;
        if (!pc) newPeer();
        // The doctor starts the call; a peer that rejoins a live consult renegotiates.
        if (isDoctor || rejoin) offerWhenPresent = true;
        maybeOffer(rejoin);
        if (!pc || pc.connectionState !== "connected") setState("connecting");
        // The record's encounter is open now: the doctor's editors reload (htmx).
        document.body.dispatchEvent(new Event("refresh-workspace"));
        break;
      }
      case "offer":
        await onOffer(message.sdp);
        break;
      case "answer":
        await onAnswer(message.sdp);
        break;
      case "ice":
        await onIce(message.candidate);
        break;
      case "chat":
        showChat(message);
        break;
      case "ended":
        ended = true;
        live = false;
        if (pc) pc.close();
        setState("ended");
        chatForm.querySelector("button").disabled = true;
        if (admitButton) admitButton.disabled = true;
        if (endButton) endButton.disabled = true;
        document.body.dispatchEvent(new Event("refresh-workspace"));
        break;
      case "error":
        if (message.code === "closed") {
          ended = true;
          setState("ended");
        } else if (message.code === "not_open") {
          setState("connecting", message.message);
        } else if (message.code === "consent") {
          // The telemedicine consent was withdrawn: the page itself now asks for it.
          window.location.reload();
        } else {
          stateLine.dataset.error = message.code;
        }
        break;
    }
  }

  function onPresence(participants) {
    present = participants;
    if (joinPending) {
      joinPending = false;
      if (!live && !ended) setState("connecting", isDoctor ? text.waiting_doctor : text.waiting);
    }
    if (admitButton) {
      admitButton.disabled = live || ended || !participants.includes("patient");
      admitButton.hidden = live || ended;
    }
    if (presenceNote) {
      presenceNote.textContent = !participants.includes("patient") ? text.patient_away
        : (live ? text.patient_in_call : text.patient_here);
    }
    maybeOffer(true);
  }

  function maybeOffer(iceRestart) {
    if (offerWhenPresent && live && present.includes(other)) {
      offerWhenPresent = false;
      offer(iceRestart && pc && pc.remoteDescription).catch(console.error);
    }
  }

  // --- Chat (media.js) ---------------------------------------------------------------------
  const showChat = shared.wireChat({ log: chatLog, form: chatForm, input: chatText, role, text, send });

  if (admitButton) {
    admitButton.addEventListener("click", function () { send({ type: "admit" }); });
  }
  if (endButton) {
    endButton.addEventListener("click", function () {
      // The workspace lists what is still unsigned; ending now leaves it a draft: say so.
      let question = text.confirm_end;
      const drafts = document.querySelectorAll("[data-encounter-drafts] li");
      if (drafts.length) {
        const lines = Array.from(drafts, (item) => "• " + item.textContent.trim());
        question += "\n\n" + text.drafts_stay + "\n" + lines.join("\n");
      }
      if (window.confirm(question)) send({ type: "end" });
    });
  }

  // --- Start --------------------------------------------------------------------------------
  if (ended) {
    setState("ended");
    chatForm.querySelector("button").disabled = true;
    return;
  }
  setState("connecting");
  Promise.all([startMedia(), loadIceServers()]).then(connect);
})();
