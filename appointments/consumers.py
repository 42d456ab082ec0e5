"""Live sockets: a doctor page's places left, and a hospital's waiting-room display
(DESIGN.md §5: both pages also poll)."""

from __future__ import annotations

from channels.db import database_sync_to_async

from appointments.live import desk_display_group, doctor_group
from appointments.selectors.desk import desk_hospitals
from appointments.selectors.slots import doctor_public
from notifications.consumers import GroupForwardConsumer


class DoctorSlotsConsumer(GroupForwardConsumer):
    """Forwards `slot.places` pushes of one doctor to the browser. The figures are public (the
    page shows them to anyone), so no sign-in is needed; an unknown or inactive doctor's socket
    is accepted and closed with 4404. The browser sends nothing: anything it sends is ignored."""

    refusal_code = 4404

    async def group_for(self) -> str | None:
        doctor_id = self.scope["url_route"]["kwargs"]["doctor_id"]
        doctor = await database_sync_to_async(doctor_public)(pk=doctor_id)
        return doctor_group(doctor.pk) if doctor is not None else None

    async def slot_places(self, event: dict) -> None:
        await self.forward(event, ("slot", "public_left", "referral_left", "bookable"))


class DeskDisplayConsumer(GroupForwardConsumer):
    """The waiting-room display of one hospital: forwards `queue.called` (number and masked
    name) and `queue.changed` pushes; the page then reloads its board. Only that hospital's
    front desk and admins (and platform admins): any other socket is accepted and closed with
    4403, whether or not the hospital exists. The browser sends nothing."""

    refusal_code = 4403

    async def group_for(self) -> str | None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        hospital = await database_sync_to_async(_desk_hospital)(self.scope.get("user"), slug)
        return desk_display_group(hospital.pk) if hospital is not None else None

    async def queue_called(self, event: dict) -> None:
        await self.forward(event, ("number", "patient", "doctor"))

    async def queue_changed(self, event: dict) -> None:
        await self.forward(event)


def _desk_hospital(user, slug: str):
    # The sign-in itself (second factor included) is checked for every socket by portal's ASGI
    # middleware (portal/socket_sign_in.py); this is the hospital's own rule.
    if user is None or not user.is_authenticated:
        return None
    return desk_hospitals(user=user).filter(slug=slug).first()
