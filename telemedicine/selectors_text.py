"""Reads of text consults (图文问诊): who may open a thread and as whom, the thread, the
doctor's queue, the family's list, and the messages FHIR's $everything shows."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch

from appointments.selectors import slots_bookable
from hospitals.models import Doctor
from records.access import RecordAccess, record_access
from records.models import Attachment
from records.selectors import account_acts_for, patients_for_account
from telemedicine.models import TextConsult, TextConsultMessage, TextConsultOffer

DOCTOR = "doctor"
FAMILY = "family"
READER = "reader"  # another doctor with access to the person's record


@dataclass(frozen=True)
class ThreadSeat:
    consult: TextConsult
    role: str
    access: RecordAccess | None = None  # a READER's record access (to audit the read)

    @property
    def is_doctor(self) -> bool:
        return self.role == DOCTOR

    @property
    def may_write(self) -> bool:
        return self.consult.is_open and self.role in (DOCTOR, FAMILY)


def text_offer_of(*, doctor: Doctor) -> TextConsultOffer | None:
    return TextConsultOffer.objects.filter(doctor=doctor).first()


def text_offer_open(*, doctor_id: int) -> TextConsultOffer | None:
    """The offer of an active doctor who takes text consults now, or None."""
    return (
        TextConsultOffer.objects.filter(doctor_id=doctor_id, is_open=True, doctor__is_active=True)
        .select_related("doctor__hospital", "doctor__department")
        .first()
    )


def doctor_of_account(*, account: Any) -> Doctor | None:
    if not getattr(account, "is_authenticated", False):
        return None
    return Doctor.objects.filter(user=account).select_related("hospital").first()


def text_consult_seat(*, account: Any, public_id: Any) -> ThreadSeat | None:
    """Who `account` is in the thread addressed by the encounter's `public_id`: its doctor,
    the family (a live link that reads the person's record), another doctor who may read the
    record now (and sees the writing hospital's rows) — or None (a 404)."""
    if not getattr(account, "is_authenticated", False):
        return None
    consult = (
        TextConsult.objects.select_related(
            "encounter__hospital", "doctor__hospital", "doctor__department", "patient"
        )
        .filter(encounter__public_id=public_id)
        .first()
    )
    if consult is None:
        return None
    if consult.doctor.user_id == account.pk:
        return ThreadSeat(consult=consult, role=DOCTOR)
    if account_acts_for(account=account, patient=consult.patient, can_read=True):
        return ThreadSeat(consult=consult, role=FAMILY)
    access = record_access(user=account, patient=consult.patient)
    if access.allowed and access.shows_hospital(consult.encounter.hospital_id):
        return ThreadSeat(consult=consult, role=READER, access=access)
    return None


def _photos() -> Prefetch:
    return Prefetch("photos", queryset=Attachment.objects.order_by("pk"))


def text_thread(*, consult: TextConsult) -> list[TextConsultMessage]:
    """The thread, oldest first, with each sender and photo: three queries."""
    return list(
        consult.messages.select_related("sender")
        .prefetch_related(_photos())
        .order_by("created_at", "pk")
    )


def text_photo(*, consult: TextConsult, photo_id: Any) -> Attachment | None:
    return Attachment.objects.filter(
        public_id=photo_id, encounter_id=consult.encounter_id, content_type__startswith="image/"
    ).first()


def text_queue(*, doctor: Doctor) -> list[TextConsult]:
    """The doctor's open consults, oldest first, each with its person: one query."""
    return list(
        TextConsult.objects.filter(doctor=doctor, status=TextConsult.Status.OPEN)
        .select_related("patient", "encounter")
        .order_by("created_at", "pk")
    )


def text_recently_closed(*, doctor: Doctor, limit: int = 20) -> list[TextConsult]:
    return list(
        TextConsult.objects.filter(doctor=doctor, status=TextConsult.Status.CLOSED)
        .select_related("patient", "encounter")
        .order_by("-closed_at", "-pk")[:limit]
    )


def text_consults_of_family(*, account: Any) -> list[TextConsult]:
    """The consults about every person the account reads the record of, newest first."""
    people = patients_for_account(account=account, can_read=True).values("pk")
    return list(
        TextConsult.objects.filter(patient__in=people)
        .select_related("patient", "encounter", "doctor__hospital", "doctor__department")
        .order_by("-created_at", "-pk")
    )


def text_consults_taken_today(*, doctor: Doctor, start: dt.datetime, end: dt.datetime) -> int:
    return TextConsult.objects.filter(
        doctor=doctor, created_at__gte=start, created_at__lt=end
    ).count()


def next_bookable_day(*, doctor: Doctor, mode: str, now: dt.datetime | None = None):
    """The first day the doctor has a bookable period of `mode` (the "book" link opens it)."""
    slot = (
        slots_bookable(now=now)
        .filter(doctor=doctor, mode=mode)
        .select_related("site")
        .order_by("start")
        .first()
    )
    if slot is None:
        return None
    return slot.start.astimezone(zoneinfo.ZoneInfo(slot.site.timezone)).date()


def text_messages_visible(*, access: RecordAccess) -> list[TextConsultMessage]:
    """The text consult messages of a person this reader may see (FHIR Communication): the
    consults whose encounter the reader's access shows."""
    if not access.allowed:
        return []
    consults = access.filter(
        TextConsult.objects.filter(patient=access.patient), hospital_field="encounter__hospital"
    ).values("pk")
    return list(
        TextConsultMessage.objects.filter(consult__in=consults)
        .select_related("consult__encounter", "consult__doctor", "consult__patient", "sender")
        .prefetch_related(_photos())
        .order_by("created_at", "pk")
    )
