"""Re-checks pushed to consult rooms (DESIGN.md §3 and §4: a live socket is re-checked when the
reason for its access changes).

A right to be in a room can end during a call: a guardian's link is revoked, the patient's
telemedicine consent is withdrawn, the appointment is cancelled, moved or changes status. Each
such change, once its transaction commits, sends `consult.recheck` to the room's group; every
socket in the room then checks its own right again with the reads it used at connect and join
(`ConsultConsumer.consult_recheck`) and is closed with 4403 when it has lost it.

Wiring (TelemedicineConfig.ready): records cannot import us, so it sends
`records.signals.patient_access_changed`; appointments sends `appointment_cancelled` and
`appointment_status_changed`. A push that fails (the channel layer is down) is logged: the
same layer carries the room's chat and signalling, so nothing reaches the socket meanwhile.
"""

from __future__ import annotations

import uuid
from typing import Any

from notifications.live import group_send_on_commit
from telemedicine.models import Consultation

RECHECK = "consult.recheck"


def room_group(public_id: uuid.UUID) -> str:
    return f"consult.{public_id.hex}"


def rooms_recheck(*, public_ids: list[uuid.UUID]) -> None:
    """After the current transaction commits (at once outside one), ask every socket in these
    rooms to check its right again."""
    for public_id in public_ids:
        group = room_group(public_id)
        group_send_on_commit(
            group=group, message={"type": RECHECK}, what=f"ask room {group} to re-check"
        )


def rooms_recheck_for_patient(sender: Any, *, patient_id: int, **kwargs: Any) -> None:
    """Receiver of records.signals.patient_access_changed (sent after the change committed):
    the person's rooms that are not over re-check."""
    public_ids = Consultation.objects.filter(appointment__patient_id=patient_id).exclude(
        status=Consultation.Status.ENDED
    )
    rooms_recheck(public_ids=list(public_ids.values_list("public_id", flat=True)))


def rooms_recheck_for_appointment(sender: Any, *, appointment: Any, **kwargs: Any) -> None:
    """Receiver of appointment_cancelled and appointment_status_changed, inside their
    transaction: once it commits, the appointment's room re-checks (a cancelled one closes)."""
    public_ids = Consultation.objects.filter(appointment_id=appointment.pk).values_list(
        "public_id", flat=True
    )
    rooms_recheck(public_ids=list(public_ids))
