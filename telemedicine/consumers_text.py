"""The text consult thread's socket `/ws/text-consults/<uuid>/`: listen-only, it tells the
page that the thread changed (`thread.changed {what}`) and the page fetches the messages over
HTTP, where every read is checked again. No message text travels on the socket.

The sign-in rules (second factor, idle and absolute limits) are portal's ASGI middleware's;
here: only the thread's doctor, the family and a doctor who may read the person's record get
in (4403 otherwise), and the right is checked again at every push, so a revoked link or an
ended access closes the socket (4403) before anything more is said.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from notifications.consumers import GroupForwardConsumer
from telemedicine.selectors_text import text_consult_seat
from telemedicine.services_text import thread_group


class TextThreadConsumer(GroupForwardConsumer):
    async def _may_listen(self) -> bool:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return False
        public_id = self.scope["url_route"]["kwargs"]["public_id"]
        seat = await database_sync_to_async(text_consult_seat)(account=user, public_id=public_id)
        return seat is not None

    async def group_for(self) -> str | None:
        if not await self._may_listen():
            return None
        return thread_group(self.scope["url_route"]["kwargs"]["public_id"])

    async def thread_changed(self, event: dict) -> None:
        if not await self._may_listen():
            await self.close(code=self.refusal_code)
            return
        await self.forward(event, ("what",))
