"""The live places-left socket of a doctor's page (DESIGN.md §5: pages also poll)."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from appointments.live import doctor_group
from appointments.selectors_booking import doctor_public


class DoctorSlotsConsumer(AsyncJsonWebsocketConsumer):
    """Forwards `slot.places` pushes of one doctor to the browser. The figures are public (the
    page shows them to anyone), so no sign-in is needed; an unknown or inactive doctor's socket
    is accepted and closed with 4404. The browser sends nothing: anything it sends is ignored."""

    group: str | None = None

    async def connect(self) -> None:
        doctor_id = self.scope["url_route"]["kwargs"]["doctor_id"]
        await self.accept()
        doctor = await database_sync_to_async(doctor_public)(pk=doctor_id)
        if doctor is None:
            await self.close(code=4404)
            return
        self.group = doctor_group(doctor.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        return None

    async def slot_places(self, event: dict) -> None:
        await self.send_json(
            {
                "type": "slot.places",
                "slot": event["slot"],
                "public_left": event["public_left"],
                "referral_left": event["referral_left"],
                "bookable": event["bookable"],
            }
        )
