"""Text consults (图文问诊, issue 20): a doctor's offer, opening a consult, the thread, asking
the family to book a visit, and closing (by the doctor, or on its own).

Every verb is one transaction. Photos are checked and re-encoded (records.attachments: typed
from their bytes, EXIF dropped) and written to storage before the transaction; when the
transaction fails the stored files are deleted again, so nothing is left half-saved.

Lock order (DESIGN.md §3): the consult row, then its encounter (encounter_close), then the
rest; opening locks the doctor's offer row first, so two families racing for the last place
of the day are served one after the other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from hospitals.models import Doctor
from notifications.live import group_send_on_commit
from notifications.models import OutboxMessage
from notifications.services import notify
from records.attachments import attachment_clean
from records.models import Attachment, Encounter, Patient
from records.selectors import account_acts_for, patient_links
from records.services import encounter_close, encounter_open
from telemedicine.models import (
    TEXT_MAX_CHARS,
    TEXT_MAX_PHOTOS,
    TextConsult,
    TextConsultMessage,
    TextConsultOffer,
)
from telemedicine.services import ConsultRefused

UNANSWERED_AFTER = dt.timedelta(hours=24)
QUIET_AFTER_ANSWER = dt.timedelta(hours=48)
CHANNELS = (OutboxMessage.Channel.INAPP, OutboxMessage.Channel.SMS)


class TextConsultRefused(ConsultRefused):
    code = "refused"
    message = _("This cannot be done in this consult.")


class NotOffered(TextConsultRefused):
    code = "not_offered"
    message = _("This doctor does not take text consults at the moment.")


class DailyLimitReached(TextConsultRefused):
    code = "daily_limit"
    message = _(
        "This doctor has taken all the text consults they can answer today. Try again "
        "tomorrow, or book a visit."
    )


class NotYourPerson(TextConsultRefused):
    code = "not_linked"
    message = _("You cannot ask a consult for this person.")


class ConsultIsClosed(TextConsultRefused):
    code = "closed"
    message = _("This consult is closed.")


class EmptyMessage(TextConsultRefused):
    code = "empty"
    message = _("Write a message or add a photo.")


class TooManyPhotos(TextConsultRefused):
    code = "too_many_photos"
    message = _("Add at most 9 photos.")


class NotTheDoctor(TextConsultRefused):
    code = "forbidden"
    message = _("Only the consult's doctor can do that.")


class PhotoRefused(TextConsultRefused):
    code = "photo"


def thread_path(consult: TextConsult) -> str:
    return f"/text-consults/{consult.encounter.public_id}/"


def thread_group(public_id: Any) -> str:
    return f"textconsult.{public_id}"


# --- The offer ------------------------------------------------------------------------------


def text_offer_update(
    *, doctor: Doctor, by: Any, is_open: bool, price_note: str, daily_limit: int
) -> TextConsultOffer:
    """The doctor turns text consults on or off, with a price note and a daily limit."""
    if doctor.user_id is None or doctor.user_id != getattr(by, "pk", None):
        raise NotTheDoctor()
    if not 1 <= int(daily_limit) <= 200:
        raise TextConsultRefused(_("The daily limit must be between 1 and 200."))
    with transaction.atomic():
        offer, _created = TextConsultOffer.objects.select_for_update().get_or_create(doctor=doctor)
        offer.is_open = bool(is_open)
        offer.price_note = (price_note or "").strip()[:120]
        offer.daily_limit = int(daily_limit)
        offer.save()
        audit_record(
            actor=by,
            action="text_consult.offer",
            target=offer,
            data={"open": offer.is_open, "daily_limit": offer.daily_limit},
        )
    return offer


def _day_bounds(doctor: Doctor, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    zone = zoneinfo.ZoneInfo(doctor.hospital.timezone)
    day = now.astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    return start, start + dt.timedelta(days=1)


# --- Photos ---------------------------------------------------------------------------------


def _clean_photos(photos: Sequence[Any]) -> list[tuple[bytes, str, str]]:
    """Each photo's clean bytes, type and display name; only JPEG and PNG."""
    if len(photos) > TEXT_MAX_PHOTOS:
        raise TooManyPhotos()
    cleaned = []
    for upload in photos:
        try:
            data, content_type = attachment_clean(upload=upload)
        except ValidationError as error:
            raise PhotoRefused(error.messages[0]) from None
        if content_type not in ("image/jpeg", "image/png"):
            raise PhotoRefused(_("Only photos (JPEG or PNG) can be added to a consult."))
        extension = "jpg" if content_type == "image/jpeg" else "png"
        cleaned.append((data, content_type, f"photo.{extension}"))
    return cleaned


def _stored(
    cleaned: list[tuple[bytes, str, str]], *, patient: Patient, by: Any, hospital_id: int
) -> list[Attachment]:
    """Unsaved Attachment rows whose files are already in storage (outside any transaction)."""
    rows = []
    for data, content_type, name in cleaned:
        row = Attachment(
            patient=patient,
            hospital_id=hospital_id,
            uploaded_by=by,
            original_name=name,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            title=str(_("Photo in a text consult"))[:120],
        )
        row.file.save("upload", ContentFile(data), save=False)
        rows.append(row)
    return rows


def _discard(rows: list[Attachment]) -> None:
    for row in rows:
        row.file.delete(save=False)


def _message(
    consult: TextConsult,
    *,
    by: Any,
    from_doctor: bool,
    text: str,
    photos: list[Attachment],
    now: dt.datetime,
    book_mode: str = "",
) -> TextConsultMessage:
    message = TextConsultMessage.objects.create(
        consult=consult,
        sender=by,
        from_doctor=from_doctor,
        text=text,
        book_mode=book_mode,
        created_at=now,
    )
    for row in photos:
        row.encounter = consult.encounter
        row.save()
    if photos:
        message.photos.add(*photos)
    return message


# --- Messages to the other side -------------------------------------------------------------


def _snapshot(consult: TextConsult, *, for_doctor: bool = False) -> dict:
    """What a message may say. `link` (the inbox's) opens the thread; the SMS's `url` is the
    short list page (the doctor's queue or the family's consults), so a Chinese text message
    keeps its link whole in one part."""
    doctor = consult.doctor
    return {
        "tz": doctor.hospital.timezone,
        "doctor": {"zh-hans": doctor.name, "en": doctor.name_en or doctor.name},
        "patient": consult.patient.name,
        "path": "/doctor/text-consults/" if for_doctor else "/text-consults/",
        "link": thread_path(consult),
    }


def _tell_family(consult: TextConsult, *, kind: str, subject: Any, skip: Any = None) -> None:
    params = {**_snapshot(consult), "outcome": consult.outcome}
    for link in patient_links(patient=consult.patient, can_read=True):
        if skip is not None and link.account_id == skip.pk:
            continue
        notify(account=link.account, kind=kind, subject=subject, params=params, channels=CHANNELS)


def _tell_doctor(consult: TextConsult, *, kind: str, subject: Any) -> None:
    if consult.doctor.user_id is None:
        return
    notify(
        account=consult.doctor.user,
        kind=kind,
        subject=subject,
        params=_snapshot(consult, for_doctor=True),
        channels=CHANNELS,
    )


def _push(consult: TextConsult, what: str) -> None:
    group_send_on_commit(
        group=thread_group(consult.encounter.public_id),
        message={"type": "thread.changed", "what": what},
        what=f"push a change of text consult {consult.pk}",
    )


# --- Opening and the thread -----------------------------------------------------------------


def text_consult_open(
    *,
    patient: Patient,
    doctor: Doctor,
    by: Any,
    question: str,
    photos: Sequence[Any] = (),
    now: dt.datetime | None = None,
) -> TextConsult:
    """Ask `doctor` a question about `patient` (the account's own person, or a child it is
    guardian of: a live link that may book and read the record). Refused when the doctor does
    not take text consults or has taken today's limit."""
    question = (question or "").strip()
    if not question:
        raise EmptyMessage(_("Write your question."))
    if len(question) > TEXT_MAX_CHARS:
        raise TextConsultRefused(_("Write a question of at most 2,000 characters."))
    if not account_acts_for(account=by, patient=patient, can_book=True, can_read=True):
        raise NotYourPerson()
    cleaned = _clean_photos(photos)
    rows = _stored(cleaned, patient=patient, by=by, hospital_id=doctor.hospital_id)
    try:
        with transaction.atomic():
            offer = (
                TextConsultOffer.objects.select_for_update(of=("self",))
                .filter(doctor=doctor, is_open=True, doctor__is_active=True)
                .first()
            )
            if offer is None:
                raise NotOffered()
            now = now or timezone.now()
            start, end = _day_bounds(doctor, now)
            taken = TextConsult.objects.filter(
                doctor=doctor, created_at__gte=start, created_at__lt=end
            ).count()
            if taken >= offer.daily_limit:
                raise DailyLimitReached()
            encounter = encounter_open(
                patient=patient, doctor=doctor, mode=Encounter.Mode.TEXT, by=by
            )
            consult = TextConsult.objects.create(
                encounter=encounter,
                patient=patient,
                doctor=doctor,
                opened_by=by,
                summary=" ".join(question.split())[:140],
                price_note=offer.price_note,
                created_at=now,
                closes_at=now + UNANSWERED_AFTER,
            )
            _message(consult, by=by, from_doctor=False, text=question, photos=rows, now=now)
            audit_record(
                actor=by,
                action="text_consult.open",
                target=consult,
                on_behalf_of=patient,
                data={"doctor": doctor.pk, "photos": len(rows)},
            )
            _tell_doctor(consult, kind="text_consult.question", subject=consult)
    except BaseException:
        _discard(rows)
        raise
    return consult


def _lock(consult: TextConsult) -> TextConsult:
    return (
        TextConsult.objects.select_for_update(of=("self",))
        .select_related("encounter", "doctor__hospital", "patient")
        .get(pk=consult.pk)
    )


def is_consult_doctor(consult: TextConsult, account: Any) -> bool:
    return consult.doctor.user_id is not None and consult.doctor.user_id == getattr(
        account, "pk", None
    )


def text_consult_reply(
    *,
    consult: TextConsult,
    by: Any,
    text: str,
    photos: Sequence[Any] = (),
    now: dt.datetime | None = None,
) -> TextConsultMessage:
    """A message in the thread, from the consult's doctor or the family, while it is open.
    A doctor's message moves the automatic close to 48 h after it."""
    text = (text or "").strip()
    if len(text) > TEXT_MAX_CHARS:
        raise TextConsultRefused(_("Write a message of at most 2,000 characters."))
    if not text and not photos:
        raise EmptyMessage()
    from_doctor = is_consult_doctor(consult, by)
    if not from_doctor and not account_acts_for(account=by, patient=consult.patient, can_read=True):
        raise NotYourPerson()
    cleaned = _clean_photos(photos)
    rows = _stored(cleaned, patient=consult.patient, by=by, hospital_id=consult.doctor.hospital_id)
    try:
        with transaction.atomic():
            consult = _lock(consult)
            if not consult.is_open:
                raise ConsultIsClosed()
            now = now or timezone.now()
            message = _message(
                consult, by=by, from_doctor=from_doctor, text=text, photos=rows, now=now
            )
            if from_doctor:
                consult.doctor_answered_at = now
                consult.closes_at = now + QUIET_AFTER_ANSWER
                consult.save(update_fields=["doctor_answered_at", "closes_at"])
                _tell_family(consult, kind="text_consult.answer", subject=message)
            else:
                _tell_doctor(consult, kind="text_consult.reply", subject=message)
            audit_record(
                actor=by,
                action="text_consult.message",
                target=consult,
                on_behalf_of=consult.patient,
                data={"from_doctor": from_doctor, "photos": len(rows)},
            )
            _push(consult, "message")
    except BaseException:
        _discard(rows)
        raise
    return message


def text_consult_ask_to_book(
    *, consult: TextConsult, by: Any, mode: str, text: str = "", now: dt.datetime | None = None
) -> TextConsultMessage:
    """The doctor asks the family to book a video or in-person visit: a message with a
    one-click link to the doctor's periods of that kind."""
    if mode not in (TextConsult.BookMode.ONLINE, TextConsult.BookMode.IN_PERSON):
        raise TextConsultRefused(_("Choose a video or an in-person visit."))
    if not is_consult_doctor(consult, by):
        raise NotTheDoctor()
    with transaction.atomic():
        consult = _lock(consult)
        if not consult.is_open:
            raise ConsultIsClosed()
        now = now or timezone.now()
        message = _message(
            consult,
            by=by,
            from_doctor=True,
            text=(text or "").strip()[:TEXT_MAX_CHARS],
            photos=[],
            now=now,
            book_mode=mode,
        )
        consult.book_mode = mode
        consult.doctor_answered_at = now
        consult.closes_at = now + QUIET_AFTER_ANSWER
        consult.save(update_fields=["book_mode", "doctor_answered_at", "closes_at"])
        audit_record(
            actor=by,
            action="text_consult.ask_to_book",
            target=consult,
            on_behalf_of=consult.patient,
            data={"mode": mode},
        )
        _tell_family(consult, kind="text_consult.book", subject=message)
        _push(consult, "message")
    return message


def _close(consult: TextConsult, *, by: Any, outcome: str, now: dt.datetime) -> None:
    """Close a locked, open consult and its encounter (the doctor's access winds down)."""
    consult.status = TextConsult.Status.CLOSED
    consult.outcome = outcome
    consult.closed_at = now
    consult.save(update_fields=["status", "outcome", "closed_at"])
    encounter_close(encounter=consult.encounter, by=by)
    audit_record(
        actor=by,
        action="text_consult.close",
        target=consult,
        on_behalf_of=consult.patient,
        data={"outcome": outcome},
    )
    _tell_family(consult, kind="text_consult.closed", subject=consult)
    _push(consult, "closed")


def text_consult_close(*, consult: TextConsult, by: Any) -> TextConsult:
    """The doctor closes the consult (closing a closed one changes nothing)."""
    if not is_consult_doctor(consult, by):
        raise NotTheDoctor()
    with transaction.atomic():
        consult = _lock(consult)
        if consult.is_open:
            _close(
                consult,
                by=by,
                outcome=TextConsult.Outcome.CLOSED_BY_DOCTOR,
                now=timezone.now(),
            )
    return consult


def text_consults_close_due(*, now: dt.datetime | None = None) -> int:
    """The beat's sweep: close every open consult past `closes_at` — "not answered — no fee"
    when the doctor never wrote, otherwise "answered". Claims rows with SKIP LOCKED, so two
    sweeps never close the same consult twice; a closed one is never touched again."""
    now = now or timezone.now()
    closed = 0
    while True:
        with transaction.atomic():
            batch = list(
                TextConsult.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("encounter", "doctor__hospital", "patient")
                .filter(status=TextConsult.Status.OPEN, closes_at__lte=now)
                .order_by("pk")[:100]
            )
            for consult in batch:
                outcome = (
                    TextConsult.Outcome.ANSWERED
                    if consult.doctor_answered_at
                    else TextConsult.Outcome.UNANSWERED
                )
                _close(consult, by=None, outcome=outcome, now=now)
            closed += len(batch)
        if len(batch) < 100:
            return closed
