"""Ranked alternatives for an appointment a stopped clinic cancelled, and the signed one-click
"take this one" offer that rebooks the same patient (DESIGN.md §3: through `appointment_book`).

Ranking, one slot per rank, each the soonest with a free public place that starts at least
OFFER_LEAD after the offer (checked again when it is taken):
1. the same doctor's next session;
2. a doctor of the same title in the same department;
3. the online clinic of the same department at the cloud hospital.

An offer is a signed token (django.core.signing, with an expiry) naming the cancelled
appointment and the slot. It is single-use: the booking it makes carries the idempotency key
`rebook-<cancelled appointment>`, and a second offer for the same appointment is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.errors import OfferRefused
from appointments.models import Appointment, Slot
from appointments.selectors.appointments import account_may_act_for_appointment

OFFER_SALT = "appointments.rebook-offer"
OFFER_MAX_AGE = dt.timedelta(days=3)
# Time enough to read the notice and get there (or to the screen): a period starting sooner is
# neither offered nor, when the offer is taken later, booked.
OFFER_LEAD = dt.timedelta(minutes=30)


class Rank:
    SAME_DOCTOR = "same_doctor"
    SAME_TITLE = "same_title"
    ONLINE = "online"


RANK_LABELS = {
    Rank.SAME_DOCTOR: _("The same doctor's next session"),
    Rank.SAME_TITLE: _("A doctor of the same title in the same department"),
    Rank.ONLINE: _("The online clinic at the cloud hospital"),
}


@dataclass(frozen=True)
class Alternative:
    rank: str
    slot: Slot

    @property
    def label(self):
        return RANK_LABELS[self.rank]


def _open_slots(now: dt.datetime):
    """Slots a patient could take now: released, not closed, starting OFFER_LEAD or later from
    now, with a public place (unused referral places join after their merge time)."""
    return (
        Slot.objects.filter(
            closed_at=None, start__gte=now + OFFER_LEAD, release_at__lte=now, orphaned_at=None
        )
        .filter(
            Q(capacity__gt=F("booked"))
            | Q(referral_merge_at__lte=now, referral_capacity__gt=F("referral_booked"))
        )
        .select_related("doctor", "site", "department")
        .order_by("start", "pk")
    )


def closure_alternatives(
    *, appointment: Appointment, now: dt.datetime | None = None
) -> list[Alternative]:
    now = now or timezone.now()
    slot = appointment.slot
    doctor = slot.doctor
    base = (
        _open_slots(now)
        .exclude(pk=slot.pk)
        .exclude(
            appointments__patient=appointment.patient,
            appointments__status__in=("booked", "checked_in"),
        )
    )
    found: list[Alternative] = []
    same_doctor = base.filter(doctor=doctor).first()
    if same_doctor is not None:
        found.append(Alternative(Rank.SAME_DOCTOR, same_doctor))
    same_title = (
        base.filter(department=slot.department, doctor__title=doctor.title)
        .exclude(doctor=doctor)
        .first()
    )
    if same_title is not None:
        found.append(Alternative(Rank.SAME_TITLE, same_title))
    online = base.filter(
        mode="online", site__kind="cloud", department__slug=slot.department.slug
    ).first()
    if online is not None:
        found.append(Alternative(Rank.ONLINE, online))
    return found


def offer_token(*, appointment: Appointment, slot: Slot) -> str:
    return signing.dumps({"a": appointment.pk, "s": slot.pk}, salt=OFFER_SALT, compress=True)


def offer_key(appointment_id: int) -> str:
    return f"rebook-{appointment_id}"


def offer_used(appointment: Appointment) -> bool:
    return Appointment.objects.filter(idempotency_key=offer_key(appointment.pk)).exists()


def offer_open(
    *, token: str, account: Any, now: dt.datetime | None = None
) -> tuple[Appointment, Slot]:
    """Check an offer for `account`: signed by us, not expired, the account's own (it may book
    for the cancelled appointment's patient), not used yet, and its period still starting
    OFFER_LEAD or later from now. Raises OfferRefused."""
    try:
        data = signing.loads(token, salt=OFFER_SALT, max_age=OFFER_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise OfferRefused(_("This offer has expired. Please choose another time.")) from exc
    except signing.BadSignature as exc:
        raise OfferRefused(_("This link is not valid.")) from exc
    old = (
        Appointment.objects.select_related("patient", "slot")
        .filter(pk=data.get("a"), status=Appointment.Status.CANCELLED)
        .first()
    )
    slot = (
        Slot.objects.select_related("doctor", "site", "department").filter(pk=data.get("s")).first()
    )
    if (
        old is None
        or slot is None
        or not account_may_act_for_appointment(account=account, appointment=old)
    ):
        raise OfferRefused(_("This link is not valid."))
    if offer_used(old):
        raise OfferRefused(_("This offer has already been used."))
    if slot.start < (now or timezone.now()) + OFFER_LEAD:
        raise OfferRefused(
            _(
                "This time starts in less than 30 minutes and can no longer be taken. "
                "Please choose another time."
            )
        )
    return old, slot
