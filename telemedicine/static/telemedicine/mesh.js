// A remote consultation's room (远程会诊): up to four browsers in a WebRTC full mesh over the
// consult socket (DESIGN.md §4). `presence` names every participant ({id, role, name}); each pair
// of peers has one RTCPeerConnection, offered by the peer with the smaller id, and every offer,
// answer and candidate carries `to` (the server relays it to that participant only) and comes
// back with `from`. The specialist starts the consultation; the chat carries it when video fails.
(function () {
  "use strict";

  const room = document.getElementById("consult");
  if (!room) return;
  const shared = window.consultMedia;
  const text = JSON.parse(document.getElementById("consult-i18n").textContent);
  const role = room.dataset.role;
  const isHost = role === "specialist" || role === "doctor";
  const stateLine = document.getElementById("consult-state");
  const localVideo = document.getElementById("local-video");
  const tiles = document.getElementById("video-tiles");
  const list = document.getElementById("participants");
  const chatLog = document.getElementById("chat-log");
  const chatForm = document.getElementById("chat-form");
  const chatText = document.getElementById("chat-text");
  const admitButton = document.getElementById("admit");
  const endButton = document.getElementById("end");
  const micButton = document.getElementById("toggle-mic");
  const cameraButton = document.getElementById("toggle-camera");

  let localStream = null;
  let iceServers = [];
  let live = room.dataset.status === "live";
  let ended = room.dataset.status === "ended";
  let me = null;
  let peers = [];                 // the others, as presence names them
  const links = new Map();        // participant id -> {pc, tile, restartTimer}

  function setState(state, message) {
    stateLine.dataset.state = state;
    stateLine.textContent = message || text[state] || state;
  }

  // --- Camera, microphone and ICE servers (media.js) ---------------------------------------
  async function startMedia() {
    // Up to three streams go out of each browser: a modest size and rate keeps the mesh within
    // a clinic's uplink.
    const video = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 15 } };
    localStream = (await shared.startMedia({ video, localVideo, micButton, cameraButton })).stream;
    if (!localStream) setState("failed", text.no_media);
  }

  shared.wireMuteButtons({ micButton, cameraButton, text, stream: () => localStream });

  async function loadIceServers() {
    iceServers = await shared.loadIceServers(room.dataset.ice);
  }

  // --- One peer connection per other participant ---------------------------------------------
  function label(peer) {
    return peer.name + " · " + (text[peer.role] || peer.role);
  }

  function tileFor(peer) {
    const figure = document.createElement("figure");
    figure.className = "video-tile";
    figure.dataset.peer = peer.id;
    figure.dataset.state = "new";
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute("aria-label", label(peer));
    const caption = document.createElement("figcaption");
    caption.textContent = label(peer);
    figure.append(video, caption);
    tiles.append(figure);
    return figure;
  }

  function linkTo(peer, fresh) {
    let link = links.get(peer.id);
    if (link && !fresh && link.pc.connectionState !== "closed") return link;
    if (link) link.pc.close();
    const pc = new RTCPeerConnection({ iceServers: iceServers });
    const tile = (link && link.tile) || tileFor(peer);
    link = { pc: pc, tile: tile, restartTimer: null };
    links.set(peer.id, link);
    if (localStream) localStream.getTracks().forEach((track) => pc.addTrack(track, localStream));
    pc.addEventListener("icecandidate", function (event) {
      if (event.candidate) send({ type: "ice", candidate: event.candidate.toJSON(), to: peer.id });
    });
    pc.addEventListener("track", function (event) {
      tile.querySelector("video").srcObject = event.streams[0] || new MediaStream([event.track]);
    });
    pc.addEventListener("connectionstatechange", function () {
      if (links.get(peer.id) !== link) return;
      tile.dataset.state = pc.connectionState;
      clearTimeout(link.restartTimer);
      if ((pc.connectionState === "failed" || pc.connectionState === "disconnected") && offersTo(peer.id)) {
        link.restartTimer = setTimeout(function () { offer(peer, true); }, 2000);
      }
      summarise();
    });
    return link;
  }

  function drop(id) {
    const link = links.get(id);
    if (!link) return;
    clearTimeout(link.restartTimer);
    link.pc.close();
    link.tile.remove();
    links.delete(id);
  }

  function offersTo(id) {
    return me !== null && me < id;   // one offerer per pair: the smaller id
  }

  async function offer(peer, iceRestart) {
    if (!live || ended) return;
    const link = linkTo(peer, false);
    if (link.pc.signalingState !== "stable") return;
    const description = await link.pc.createOffer({ iceRestart: !!iceRestart });
    await link.pc.setLocalDescription(description);
    send({ type: "offer", sdp: link.pc.localDescription.sdp, to: peer.id });
  }

  async function onOffer(message) {
    const peer = peers.find((p) => p.id === message.from) || { id: message.from, name: "", role: "" };
    let link = links.get(peer.id);
    const renewed = link && link.pc.remoteDescription &&
      shared.fingerprint(link.pc.remoteDescription.sdp) !== shared.fingerprint(message.sdp);
    link = linkTo(peer, !link || renewed || link.pc.connectionState === "closed");
    if (link.pc.signalingState === "have-local-offer") {
      if (offersTo(peer.id)) return;  // our offer wins
      await link.pc.setLocalDescription({ type: "rollback" });
    }
    await link.pc.setRemoteDescription({ type: "offer", sdp: message.sdp });
    const answer = await link.pc.createAnswer();
    await link.pc.setLocalDescription(answer);
    send({ type: "answer", sdp: link.pc.localDescription.sdp, to: peer.id });
  }

  async function onAnswer(message) {
    const link = links.get(message.from);
    if (link && link.pc.signalingState === "have-local-offer") {
      await link.pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
    }
  }

  async function onIce(message) {
    const link = links.get(message.from);
    if (!link) return;
    try {
      await link.pc.addIceCandidate(message.candidate);
    } catch (error) {
      // A candidate of an earlier negotiation: harmless.
    }
  }

  function summarise() {
    const connected = peers.filter((p) => {
      const link = links.get(p.id);
      return link && link.pc.connectionState === "connected";
    }).length;
    room.dataset.peers = String(peers.length);
    room.dataset.connectedPeers = String(connected);
    if (ended || !live) return;
    if (peers.length && connected === peers.length) {
      setState("connected");
    } else if (connected) {
      setState("connecting", text.connected_some
        .replace("%(count)s", connected).replace("%(total)s", peers.length));
    }
  }

  function meshUp() {
    if (!live || ended) return;
    peers.forEach(function (peer) {
      const link = links.get(peer.id);
      if (offersTo(peer.id) && (!link || link.pc.connectionState === "closed" || !link.pc.remoteDescription)) {
        offer(peer, false).catch(console.error);
      }
    });
  }

  // --- Signalling (media.js) ---------------------------------------------------------------
  let sendFrame = null;
  function send(frame) {
    if (sendFrame) sendFrame(frame);
  }

  function connect() {
    sendFrame = shared.openSocket({
      path: room.dataset.socket,
      onOpen: function () { send({ type: "join" }); },
      onMessage: handle,
      stopped: () => ended,
      onStop: function () { if (!ended) setState("failed"); },
      onRetry: function () { setState("reconnecting"); },
    });
  }

  function onPresence(message) {
    me = message.you;
    peers = (message.peers || []).filter((p) => p.id !== me);
    const present = new Set(peers.map((p) => p.id));
    Array.from(links.keys()).forEach(function (id) { if (!present.has(id)) drop(id); });
    list.replaceChildren(...(message.peers || []).map(function (peer) {
      const item = document.createElement("li");
      item.dataset.role = peer.role;
      item.textContent = peer.id === me ? text.you + " · " + (text[peer.role] || peer.role) : label(peer);
      return item;
    }));
    if (admitButton) {
      admitButton.disabled = live || ended || !peers.length;
      admitButton.hidden = live || ended;
    }
    if (!live && !ended) setState("connecting", isHost ? text.waiting_doctor : text.waiting);
    meshUp();
    summarise();
  }

  async function handle(message) {
    switch (message.type) {
      case "presence":
        onPresence(message);
        break;
      case "admitted":
        live = true;
        if (admitButton) admitButton.hidden = true;
        setState("connecting");
        meshUp();
        document.body.dispatchEvent(new Event("refresh-workspace"));
        break;
      case "offer":
        await onOffer(message);
        break;
      case "answer":
        await onAnswer(message);
        break;
      case "ice":
        await onIce(message);
        break;
      case "chat":
        showChat(message);
        break;
      case "ended":
        ended = true;
        live = false;
        Array.from(links.keys()).forEach(drop);
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
          window.location.reload();
        } else {
          stateLine.dataset.error = message.code;
        }
        break;
    }
  }

  // --- Chat (media.js) ---------------------------------------------------------------------
  const showChat = shared.wireChat({ log: chatLog, form: chatForm, input: chatText, role, text, send });

  if (admitButton) {
    admitButton.addEventListener("click", function () { send({ type: "admit" }); });
  }
  if (endButton) {
    endButton.addEventListener("click", function () {
      if (window.confirm(text.confirm_end)) send({ type: "end" });
    });
  }

  if (ended) {
    setState("ended");
    chatForm.querySelector("button").disabled = true;
    return;
  }
  setState("connecting");
  Promise.all([startMedia(), loadIceServers()]).then(connect);
})();
