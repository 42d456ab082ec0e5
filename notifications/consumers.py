"""The inbox socket (/ws/notifications/): the signed-in account's unread count, pushed."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from notifications.live import inbox_group
from notifications.selectors import unread_count


class InboxConsumer(AsyncJsonWebsocketConsumer):
    """Joins the account's own group; an anonymous socket is accepted and closed with 4403 (a
    close before accept reaches browsers as 1006). The browser sends nothing: it is ignored."""

    group: str | None = None

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4403)
            return
        self.group = inbox_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        count = await database_sync_to_async(unread_count)(account=user.pk)
        await self.send_json({"type": "inbox.unread", "unread": count})

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        # A listen-only socket: what the browser sends is dropped unread, never parsed (a frame
        # that is not JSON, or nested deeper than the parser goes, must not end the socket).
        return None

    async def inbox_unread(self, event: dict) -> None:
        await self.send_json({"type": "inbox.unread", "unread": event["unread"]})
