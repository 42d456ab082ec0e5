"""The consult signalling socket `/ws/consult/<uuid>/` (DESIGN.md §4).

Client → server: `join`, `offer {sdp}`, `answer {sdp}`, `ice {candidate}`, `chat {text}`,
`leave`, and the doctor's `admit` and `end`. Server → client: `presence {participants}`, the
relayed `offer`/`answer`/`ice` with `from`, `chat {id, from, text, at}`, `admitted`, `ended`,
`error {code, message}`.

Everything between the two parties goes through the channel layer group of the consult, so a
patient on one ASGI process and the doctor on another (channels-redis) share a room with no
shared memory. Presence works the same way: a joining socket announces itself to the group and
every member answers it directly, so each socket knows who else is in the room.
"""

from __future__ import annotations

import json
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from appointments.models import Appointment
from audit.models import AuditEvent
from audit.services import audit_record
from telemedicine import services
from telemedicine.live import room_group
from telemedicine.models import CHAT_MAX_CHARS, Consultation
from telemedicine.selectors import (
    DOCTOR,
    GP,
    PATIENT,
    SPECIALIST,
    chat_history,
    consultation_for_account,
    participant_name,
    telemedicine_consent_given,
)

MAX_FRAME_BYTES = 64 * 1024
# The account may not be in this room (or no longer may). The sign-in itself (second factor,
# idle and absolute limits, 4403 at connect and 4401 once it ends) is checked for every socket
# by portal's ASGI middleware (portal/socket_sign_in.py) before and while this consumer runs.
CLOSE_FORBIDDEN = 4403
# One `type` and these fields, each a JSON string (ice: an object) — nothing else is accepted.
SCHEMAS: dict[str, dict[str, type]] = {
    "join": {},
    "leave": {},
    "admit": {},
    "end": {},
    "offer": {"sdp": str},
    "answer": {"sdp": str},
    "ice": {"candidate": dict},
    "chat": {"text": str},
}
RELAYED = ("offer", "answer", "ice")
# Fields a frame may carry besides its schema: a signalling frame of a mesh (a remote
# consultation of three or four peers) names the participant it is for.
OPTIONAL: dict[str, dict[str, type]] = {kind: {"to": str} for kind in RELAYED}
PARTICIPANT_ID_CHARS = 16


def participant_id(*, public_id: Any, account_id: int) -> str:
    """A participant's id in one room: the same for every socket of the account (a reload
    keeps it), unrelated across rooms, and not the account's key."""
    return salted_hmac("consult.participant", f"{public_id}:{account_id}").hexdigest()[
        :PARTICIPANT_ID_CHARS
    ]


def group_name(consultation: Consultation) -> str:
    return room_group(consultation.public_id)


class TokenBucket:
    """`rate` frames a second on average, bursts of up to `burst`."""

    def __init__(self, *, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _validate(frame: Any) -> tuple[str | None, str]:
    """(error code or None, type)."""
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        return "malformed", ""
    kind = frame["type"]
    schema = SCHEMAS.get(kind)
    if schema is None:
        return "unknown_type", kind
    optional = OPTIONAL.get(kind, {})
    if set(frame) - {"type"} - set(schema) - set(optional):
        return "malformed", kind
    for field, expected in schema.items():
        if not isinstance(frame.get(field), expected):
            return "malformed", kind
    for field, expected in optional.items():
        value = frame.get(field)
        if value is not None and (
            not isinstance(value, expected) or len(value) > PARTICIPANT_ID_CHARS
        ):
            return "malformed", kind
    if kind == "ice":
        candidate = frame["candidate"]
        if not isinstance(candidate.get("candidate", ""), str):
            return "malformed", kind
    if kind == "chat" and len(frame["text"]) > CHAT_MAX_CHARS:
        return "too_long", kind
    return None, kind


ERROR_MESSAGES = {
    "too_large": lambda: _("That message was too large and was dropped."),
    "malformed": lambda: _("That message was not understood and was dropped."),
    "unknown_type": lambda: _("That message was not understood and was dropped."),
    "too_long": lambda: _("Write a message of at most 2,000 characters."),
    "rate_limited": lambda: _("Too many messages at once; slow down."),
    "not_joined": lambda: _("Join the consult first."),
    "not_live": lambda: _("The call starts when the doctor admits the patient."),
}


class ConsultConsumer(AsyncWebsocketConsumer):
    consultation: Consultation | None = None
    role: str | None = None
    group: str | None = None
    # True from a granted connect until the account loses its right (a re-check) or the room
    # ends: every frame to or from the browser passes this test first, so a frame already on
    # its way when the right ended is dropped, not delivered.
    allowed = False
    joined = False
    live = False
    ended = False
    video_reported = False

    async def connect(self) -> None:
        # Accept first: a close before accept reaches browsers as 1006, not our 4403.
        await self.accept()
        public_id = self.scope["url_route"]["kwargs"]["public_id"]
        found = await database_sync_to_async(consultation_for_account)(
            public_id=public_id, account=self.scope.get("user")
        )
        if found is None:
            await self._audit_denied(public_id)
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.consultation, self.role = found
        self.allowed = True
        self.group = group_name(self.consultation)
        self.others: dict[str, str] = {}
        # A remote consultation is a mesh: each socket is named by a participant id, and the
        # room's presence lists everyone as {id, role, name}.
        self.mesh = self.consultation.is_remote
        if self.mesh:
            user = self.scope["user"]
            self.pid = participant_id(public_id=self.consultation.public_id, account_id=user.pk)
            self.name = await database_sync_to_async(participant_name)(
                consultation=self.consultation, account=user, role=self.role
            )
        self.peers: dict[str, tuple[str, str]] = {}  # channel -> (participant id, name)
        rate = getattr(settings, "CONSULT_WS_RATE", (20, 60))
        self.bucket = TokenBucket(rate=rate[0], burst=rate[1])

    async def _audit_denied(self, public_id: str) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return
        await database_sync_to_async(audit_record)(
            actor=user,
            action="access.denied",
            result=AuditEvent.Result.DENIED,
            data={"view": "consult_socket", "path": f"/ws/consult/{str(public_id)[:64]}/"},
        )

    async def disconnect(self, code: int) -> None:
        await self._leave()

    def _in_use(self, in_use: bool) -> None:
        """Tell portal's sign-in middleware whether this socket is in a call: a joined consult
        keeps its sign-in active though a video call sends no frame for minutes."""
        activity = self.scope.get("socket_activity")
        if activity is not None:
            activity.in_use = in_use

    async def _leave(self) -> None:
        if self.joined and self.group:
            self.joined = False
            self._in_use(False)
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.channel_layer.group_send(
                self.group, {"type": "consult.gone", "channel": self.channel_name}
            )

    # --- Frames from the browser -----------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        if self.consultation is None or not self.allowed:
            return
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > MAX_FRAME_BYTES:
            return await self._error("too_large")
        if not self.bucket.take():
            return await self._error("rate_limited")
        if text_data is None:
            return await self._error("malformed")
        try:
            frame = json.loads(text_data)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
            return await self._error("malformed")
        problem, kind = _validate(frame)
        if problem:
            return await self._error(problem)
        if kind == "join":
            return await self._join()
        if not self.joined:
            return await self._error("not_joined")
        await getattr(self, f"_on_{kind}")(frame)

    async def _error(self, code: str, message: Any = None) -> None:
        text = str(message) if message is not None else str(ERROR_MESSAGES[code]())
        await self.send_json({"type": "error", "code": code, "message": text})

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))

    async def _service(self, function, **kwargs):
        """Run a service; a refusal becomes an `error` frame (None returned)."""
        try:
            return await database_sync_to_async(function)(consultation=self.consultation, **kwargs)
        except services.ConsultRefused as refused:
            await self._error(refused.code, refused.message)
            return None

    async def _join(self) -> None:
        result = await self._service(services.consultation_join, account=self.scope["user"])
        if result is None:
            return
        self.consultation, _role = result
        self.live = self.consultation.status == Consultation.Status.LIVE
        history = await database_sync_to_async(self._history)()
        if not self.joined:
            self.joined = True
            self._in_use(True)
            await self.channel_layer.group_add(self.group, self.channel_name)
            await self.channel_layer.group_send(
                self.group, {"type": "consult.hello", **self._introduction()}
            )
        for message in history:
            await self.send_json(message)
        if self.live:
            await self.send_json({"type": "admitted"})
        await self._send_presence()

    def _introduction(self) -> dict:
        introduction = {"channel": self.channel_name, "role": self.role}
        if self.mesh:
            introduction.update(id=self.pid, name=self.name)
        return introduction

    def _history(self) -> list[dict]:
        doctor_account = self.consultation.appointment.slot.doctor.user_id
        if not self.mesh:
            return [
                _chat_frame(m, "doctor" if m.sender_id == doctor_account else "patient")
                for m in chat_history(consultation=self.consultation)
            ]
        roles = {doctor_account: SPECIALIST, self.consultation.gp_id: GP}
        return [
            _chat_frame(m, roles.get(m.sender_id, PATIENT))
            for m in chat_history(consultation=self.consultation)
        ]

    async def _on_leave(self, frame: dict) -> None:
        await self._leave()
        await self.close(code=1000)

    async def _on_admit(self, frame: dict) -> None:
        consultation = await self._service(services.consultation_admit, by=self.scope["user"])
        if consultation is not None:
            await self.channel_layer.group_send(self.group, {"type": "consult.admitted"})

    async def _on_end(self, frame: dict) -> None:
        consultation = await self._service(services.consultation_end, by=self.scope["user"])
        if consultation is not None:
            await self.channel_layer.group_send(self.group, {"type": "consult.ended"})

    async def _on_chat(self, frame: dict) -> None:
        message = await self._service(
            services.chat_post, sender=self.scope["user"], text=frame["text"]
        )
        if message is not None:
            await self.channel_layer.group_send(
                self.group, {"type": "consult.chat", "message": _chat_frame(message, self.role)}
            )

    async def _relay(self, frame: dict) -> None:
        if not self.live:
            return await self._error("not_live")
        if frame["type"] == "answer" and not self.video_reported:
            self.video_reported = True  # one database write per socket, not one per answer
            await self._service(services.consultation_video_connected, by=self.scope["user"])
        event = {
            "type": "consult.relay",
            "channel": self.channel_name,
            "role": self.role,
            "frame": frame,
        }
        to = frame.get("to")
        if to is None:
            return await self.channel_layer.group_send(self.group, event)
        if not self.mesh:
            return await self._error("malformed")
        # A mesh frame goes to the sockets of that one participant, and to nobody else.
        event["id"] = self.pid
        for channel, (peer_id, _name) in list(self.peers.items()):
            if peer_id == to:
                await self.channel_layer.send(channel, event)

    _on_offer = _on_answer = _on_ice = _relay

    # --- Events from the group --------------------------------------------------------------

    async def consult_hello(self, event: dict) -> None:
        if not self.allowed or event["channel"] == self.channel_name or not self.joined:
            return
        self._meet(event)
        await self.channel_layer.send(
            event["channel"], {"type": "consult.here", **self._introduction()}
        )
        await self._send_presence()

    async def consult_here(self, event: dict) -> None:
        if not self.allowed:
            return
        self._meet(event)
        await self._send_presence()

    def _meet(self, event: dict) -> None:
        self.others[event["channel"]] = event["role"]
        if "id" in event:
            self.peers[event["channel"]] = (event["id"], event["name"])

    async def consult_gone(self, event: dict) -> None:
        if not self.allowed:
            return
        self.peers.pop(event["channel"], None)
        if self.others.pop(event["channel"], None) is not None:
            await self._send_presence()

    async def _send_presence(self) -> None:
        roles = sorted({self.role, *self.others.values()})
        presence: dict[str, Any] = {"type": "presence", "participants": roles}
        if self.mesh:
            everyone = {self.pid: (self.role, self.name)}
            for channel, (peer_id, name) in self.peers.items():
                everyone[peer_id] = (self.others.get(channel, ""), name)
            presence["you"] = self.pid
            presence["peers"] = [
                {"id": peer_id, "role": role, "name": name}
                for peer_id, (role, name) in sorted(everyone.items())
            ]
        await self.send_json(presence)

    async def consult_relay(self, event: dict) -> None:
        if not self.allowed or event["channel"] == self.channel_name:
            return
        if "id" in event:
            # Sent to this participant by name (the sender chose this socket's channel).
            return await self.send_json({**event["frame"], "from": event["id"]})
        # To the other party only: never back to the sender, never to the same side.
        if event["role"] == self.role:
            return
        await self.send_json({**event["frame"], "from": event["role"]})

    async def consult_chat(self, event: dict) -> None:
        if not self.allowed:
            return
        await self.send_json(event["message"])

    async def consult_admitted(self, event: dict) -> None:
        if not self.allowed:
            return
        self.live = True
        await self.send_json({"type": "admitted"})

    async def consult_ended(self, event: dict) -> None:
        if not self.allowed:
            return
        await self._ended()

    async def _ended(self) -> None:
        self.allowed = False
        self.live = False
        await self.send_json({"type": "ended"})
        await self._leave()
        await self.close(code=1000)

    async def consult_recheck(self, event: dict) -> None:
        """A link, a consent or the appointment changed (telemedicine/live.py): check this
        socket's right again, with the reads of connect and join."""
        if not self.allowed:
            return
        verdict = await database_sync_to_async(self._recheck)()
        if verdict == "ended":
            # The room was closed (by the doctor, or on its own): as when the doctor ends it.
            return await self._ended()
        if verdict == "forbidden":
            self.allowed = False
            await self._leave()
            await self.close(code=CLOSE_FORBIDDEN)

    def _recheck(self) -> str:
        """ "allowed", "ended" or "forbidden" (the account lost its right to this room)."""
        found = consultation_for_account(
            public_id=self.consultation.public_id, account=self.scope["user"]
        )
        if found is None or found[1] != self.role:
            return "forbidden"
        consultation = found[0]
        if consultation.appointment.status == Appointment.Status.CANCELLED:
            return "forbidden"
        # The consent join asks for: a patient side withdrawn mid-call leaves the call.
        if self.role == PATIENT and not telemedicine_consent_given(consultation=consultation):
            return "forbidden"
        if consultation.is_ended:
            return "ended"
        return "allowed"


def _chat_frame(message, role: str) -> dict:
    return {
        "type": "chat",
        "id": message.pk,
        "from": role,
        "text": message.text,
        "at": message.created_at.isoformat(),
    }


__all__ = ["DOCTOR", "ConsultConsumer", "group_name", "participant_id"]
