"""Listen-only sockets that forward a group's pushes (GroupForwardConsumer, used here and by
appointments' live pages), and the inbox socket (/ws/notifications/): the signed-in account's
unread count, pushed."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from notifications.live import inbox_group
from notifications.selectors import unread_count


class GroupForwardConsumer(AsyncJsonWebsocketConsumer):
    """Accepts, joins the group `group_for()` names, and forwards the group's events to the
    browser, each through a one-line handler named after its type (`slot.places` →
    `slot_places`) that calls `forward(event, fields)`. When `group_for()` names none the socket
    is closed with `refusal_code` after the accept (a close before accept reaches browsers as
    1006). The browser sends nothing: whatever it sends is ignored."""

    refusal_code = 4403
    group: str | None = None

    async def group_for(self) -> str | None:
        """The group this socket may listen to, or None to refuse it."""
        raise NotImplementedError

    async def on_joined(self) -> None:
        """After joining the group (e.g. send the current state)."""

    async def connect(self) -> None:
        await self.accept()
        group = await self.group_for()
        if group is None:
            await self.close(code=self.refusal_code)
            return
        self.group = group
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.on_joined()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        # A listen-only socket: what the browser sends is dropped unread, never parsed (a frame
        # that is not JSON, or nested deeper than the parser goes, must not end the socket).
        return None

    async def forward(self, event: dict, fields: tuple[str, ...] = ()) -> None:
        """Send the event's type and these fields on, nothing else."""
        await self.send_json({"type": event["type"], **{field: event[field] for field in fields}})


class InboxConsumer(GroupForwardConsumer):
    """Joins the account's own group and sends its unread count; an anonymous socket is
    closed with 4403."""

    async def group_for(self) -> str | None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        return inbox_group(user.pk)

    async def on_joined(self) -> None:
        count = await database_sync_to_async(unread_count)(account=self.scope["user"].pk)
        await self.send_json({"type": "inbox.unread", "unread": count})

    async def inbox_unread(self, event: dict) -> None:
        await self.forward(event, ("unread",))
