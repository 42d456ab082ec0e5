"""Live sockets: a doctor page's places left, and a hospital's waiting-room display
(DESIGN.md §5: both pages also poll)."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from appointments.live import desk_display_group, doctor_group
from appointments.selectors.desk import desk_hospitals
from appointments.selectors.slots import doctor_public


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

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        # A listen-only socket: what the browser sends is dropped unread, never parsed (a frame
        # that is not JSON, or nested deeper than the parser goes, must not end the socket).
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


class DeskDisplayConsumer(AsyncJsonWebsocketConsumer):
    """The waiting-room display of one hospital: forwards `queue.called` (number and masked
    name) and `queue.changed` pushes; the page then reloads its board. Only that hospital's
    front desk and admins (and platform admins): any other socket is accepted and closed with
    4403, whether or not the hospital exists. The browser sends nothing."""

    group: str | None = None

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        await self.accept()
        hospital = await database_sync_to_async(_desk_hospital)(self.scope.get("user"), slug)
        if hospital is None:
            await self.close(code=4403)
            return
        self.group = desk_display_group(hospital.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        # A listen-only socket: what the browser sends is dropped unread, never parsed (a frame
        # that is not JSON, or nested deeper than the parser goes, must not end the socket).
        return None

    async def queue_called(self, event: dict) -> None:
        await self.send_json(
            {
                "type": "queue.called",
                "number": event["number"],
                "patient": event["patient"],
                "doctor": event["doctor"],
            }
        )

    async def queue_changed(self, event: dict) -> None:
        await self.send_json({"type": "queue.changed"})


def _desk_hospital(user, slug: str):
    # The sign-in itself (second factor included) is checked for every socket by portal's ASGI
    # middleware (portal/socket_sign_in.py); this is the hospital's own rule.
    if user is None or not user.is_authenticated:
        return None
    return desk_hospitals(user=user).filter(slug=slug).first()
