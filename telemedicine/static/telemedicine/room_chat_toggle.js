// On a phone in a call, the chat opens over the video from a button that counts the messages
// that arrived while it was closed. Layout only: the signalling and the chat itself are
// room.js's (room_phone.css decides when the button shows).
(function () {
  "use strict";
  var room = document.getElementById("consult");
  var chat = room && room.querySelector(".chat");
  var log = document.getElementById("chat-log");
  var controls = room && room.querySelector(".call-controls");
  if (!chat || !log || !controls) return;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button button-secondary chat-toggle";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "chat-log");
  var label = document.createElement("span");
  label.textContent = room.getAttribute("data-chat-label") || "Chat";
  var badge = document.createElement("span");
  badge.className = "badge chat-unread";
  badge.hidden = true;
  badge.textContent = "0";
  button.append(label, " ", badge);
  controls.append(button);
  room.classList.add("has-chat-toggle");
  var unread = 0;

  function setOpen(open) {
    room.classList.toggle("chat-open", open);
    button.setAttribute("aria-expanded", String(open));
    if (open) {
      unread = 0;
      badge.hidden = true;
      log.scrollTop = log.scrollHeight;
    }
  }
  button.addEventListener("click", function () {
    setOpen(!room.classList.contains("chat-open"));
  });
  new MutationObserver(function (changes) {
    var visible = chat.offsetParent !== null;
    if (visible) return;
    changes.forEach(function (change) { unread += change.addedNodes.length; });
    badge.textContent = String(unread);
    badge.hidden = unread === 0;
  }).observe(log, { childList: true });
})();
