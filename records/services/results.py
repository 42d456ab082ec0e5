"""Exams and their reading (issue 15 items 2 and 3): a clinic records an exam on a visit with
its files and lab values, sends it to a cloud hospital department's reading queue, one
specialist there claims it (and so reads the record), and signs the report once.

Every verb is one transaction and writes an AuditEvent (never with clinical text in it).
Lock order (DESIGN.md §3): encounter, then the exam, then the care relationships.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hospitals.models import Department, Doctor, Hospital
from notifications.models import OutboxMessage
from notifications.services import notify
from records.attachments import attachment_add_to_encounter
from records.errors import clinical_refusal
from records.models import CareRelationship, Encounter, Exam, Observation
from records.services.care import care_relationship_end, care_relationship_grant
from records.services.encounters import (
    AFTER_CARE,
    clinical_audit,
    clinical_full_clean,
    encounter_require_writable,
)

# A claimed exam lets its reader read the record this long, or until AFTER_CARE past signing.
READING_GRANT = dt.timedelta(days=30)
MAX_OBSERVATIONS = 60
MAX_FILES = 10
KIND_URGENT = "exam.urgent"

NOT_SENDABLE = _("Only a recorded exam that has not been sent can be sent for reading.")
NOT_A_READING_DEPARTMENT = _("Exams are read by a department of the cloud hospital.")
ALREADY_CLAIMED = _("Another specialist has already claimed this exam.")
NOT_IN_DEPARTMENT = _("Only a specialist of the department it was sent to can read this exam.")
ALREADY_SIGNED = _("This report has already been signed; a signed report is never changed.")
NOT_YOUR_READING = _("Only the specialist who claimed this exam can sign its report.")
WRITE_THE_REPORT = _("Write the findings or the impression before signing.")
NOT_THIS_HOSPITAL = _("This visit is not one of your hospital's.")
TOO_MANY = _("An exam holds at most %(n)d lab values.")
BAD_VALUE = _(
    "Lab value %(n)d: give a name and a number (and a range whose low is not above its high)."
)


def _decimal(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(value) from None
    if not number.is_finite():
        raise ValueError(value)
    return number


def _observations(exam: Exam, rows: Iterable[Mapping[str, Any]]) -> list[Observation]:
    """Unsaved, validated Observation rows for `exam` (a ClinicalRefused on the first bad one)."""
    rows = list(rows)
    if len(rows) > MAX_OBSERVATIONS:
        raise clinical_refusal(TOO_MANY, "too_many", n=MAX_OBSERVATIONS)
    built = []
    for position, row in enumerate(rows, start=1):
        try:
            value = _decimal(row.get("value"))
            low, high = _decimal(row.get("low")), _decimal(row.get("high"))
        except ValueError:
            raise clinical_refusal(BAD_VALUE, "invalid", n=position) from None
        name = str(row.get("name") or "").strip()
        if value is None or not name or (low is not None and high is not None and low > high):
            raise clinical_refusal(BAD_VALUE, "invalid", n=position)
        observation = Observation(
            exam=exam,
            code=str(row.get("code") or "").strip(),
            name=name,
            value=value,
            unit=str(row.get("unit") or "").strip(),
            reference_low=low,
            reference_high=high,
            position=position,
        )
        clinical_full_clean(observation, exclude=["exam"])
        built.append(observation)
    return built


def _exam_create(
    *,
    encounter: Encounter,
    by: Any,
    kind: str,
    title: str,
    observations: Iterable[Mapping[str, Any]],
) -> Exam:
    if kind not in Exam.Kind.values:
        raise clinical_refusal(_("Choose the kind of exam."), "invalid")
    exam = Exam(
        encounter=encounter,
        patient=encounter.patient,
        hospital=encounter.hospital,
        kind=kind,
        title=(title or "").strip()[:120],
        ordered_by=by,
    )
    clinical_full_clean(exam, exclude=["encounter", "patient", "hospital", "ordered_by"])
    rows = _observations(exam, observations)
    exam.save()
    for row in rows:
        row.exam = exam
    Observation.objects.bulk_create(rows)
    return exam


def exam_record(
    *,
    encounter: Encounter,
    by: Any,
    kind: str,
    title: str = "",
    uploads: Iterable[Any] = (),
    observations: Iterable[Mapping[str, Any]] = (),
) -> Exam:
    """The visit's own doctor records an exam on the open visit: its files (PDF, JPEG, PNG,
    typed from their bytes, images stripped of EXIF, as every attachment) and lab values."""
    uploads = list(uploads)
    if len(uploads) > MAX_FILES:
        raise clinical_refusal(_("An exam holds at most %(n)d files."), "too_many", n=MAX_FILES)
    with transaction.atomic():
        encounter = encounter_require_writable(encounter, by=by)
        exam = _exam_create(
            encounter=encounter, by=by, kind=kind, title=title, observations=observations
        )
        files = [
            attachment_add_to_encounter(
                encounter=encounter, doctor_account=by, upload=upload, title=exam.title
            )
            for upload in uploads
        ]
        exam.files.add(*files)
        clinical_audit(
            by,
            "exam.record",
            exam,
            encounter.patient,
            encounter=encounter.pk,
            kind=kind,
            files=len(files),
            values=exam.observations.count(),
        )
    return exam


def exam_import(
    *,
    encounter: Encounter,
    hospital: Hospital,
    by: Any,
    kind: str,
    title: str = "",
    observations: Iterable[Mapping[str, Any]] = (),
    findings: str = "",
    impression: str = "",
    final: bool = False,
) -> Exam:
    """A hospital's own system records a result on one of its visits (the FHIR Bundle POST,
    with a results.write token of `hospital`); open or closed visit alike. `final` signs it
    in the name of the token's owner. Nothing is saved unless all of it is."""
    with transaction.atomic():
        encounter = (
            Encounter.objects.select_for_update(of=("self",))
            .select_related("patient", "hospital")
            .get(pk=encounter.pk)
        )
        if encounter.hospital_id != hospital.pk:
            raise clinical_refusal(NOT_THIS_HOSPITAL, "not_yours")
        exam = _exam_create(
            encounter=encounter, by=by, kind=kind, title=title, observations=observations
        )
        exam.findings = (findings or "").strip()
        exam.impression = (impression or "").strip()
        if final:
            exam.status = Exam.Status.FINAL
            exam.signer = by
            exam.signed_at = timezone.now()
        clinical_full_clean(exam, exclude=["encounter", "patient", "hospital", "ordered_by"])
        exam.save()
        clinical_audit(
            by,
            "exam.import",
            exam,
            encounter.patient,
            encounter=encounter.pk,
            kind=kind,
            values=exam.observations.count(),
            final=final,
        )
    return exam


def _exam_lock(exam: Exam) -> Exam:
    return (
        Exam.objects.select_for_update(of=("self",))
        .select_related("patient", "encounter__doctor", "reading_department__hospital")
        .get(pk=exam.pk)
    )


def exam_send(*, exam: Exam, department: Department, by: Any, question: str = "") -> Exam:
    """The visit's doctor sends a recorded exam to a cloud hospital department's queue."""
    if department.hospital.kind != Hospital.Kind.CLOUD or not department.is_active:
        raise clinical_refusal(NOT_A_READING_DEPARTMENT, "not_cloud")
    with transaction.atomic():
        exam = _exam_lock(exam)
        if exam.encounter.doctor.user_id != getattr(by, "pk", None):
            raise clinical_refusal(
                _("Only the visit's own doctor can send its exams."), "not_yours"
            )
        if exam.status != Exam.Status.REGISTERED:
            raise clinical_refusal(NOT_SENDABLE, "not_sendable")
        exam.status = Exam.Status.SENT
        exam.reading_department = department
        exam.question = (question or "").strip()[:500]
        exam.sent_at = timezone.now()
        exam.save(update_fields=["status", "reading_department", "question", "sent_at"])
        clinical_audit(by, "exam.send", exam, exam.patient, department=department.pk)
    return exam


def reader_department_ids(user: Any) -> frozenset[int]:
    """The departments whose reading queue this account works: its doctor's department."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(
        Doctor.objects.filter(user=user, is_active=True, department__isnull=False).values_list(
            "department_id", flat=True
        )
    )


def exam_claim(*, exam: Exam, by: Any) -> Exam:
    """A specialist of the department claims a waiting exam: exactly one of any number of
    racing specialists gets it (one conditional UPDATE), and the claim lets them read the
    record (a CareRelationship whose source is the exam)."""
    if exam.reading_department_id not in reader_department_ids(by):
        raise clinical_refusal(NOT_IN_DEPARTMENT, "not_in_department")
    now = timezone.now()
    with transaction.atomic():
        taken = Exam.objects.filter(
            pk=exam.pk, status=Exam.Status.SENT, reading_department_id=exam.reading_department_id
        ).update(status=Exam.Status.CLAIMED, reader=by, claimed_at=now)
        if not taken:
            raise clinical_refusal(ALREADY_CLAIMED, "claimed")
        exam = Exam.objects.select_related("patient").get(pk=exam.pk)
        care_relationship_grant(
            patient=exam.patient,
            user=by,
            reason=CareRelationship.Reason.READING,
            until=now + READING_GRANT,
            source=exam,
        )
        clinical_audit(by, "exam.claim", exam, exam.patient)
    return exam


def _urgent_notice(exam: Exam) -> None:
    """The visit's doctor is told at once, in the inbox and by SMS, in the outbox of the
    signing's transaction: a signing rolled back tells nobody."""
    doctor_account = exam.encounter.doctor.user
    if doctor_account is None:
        return
    # Worded in the language of the request that signs (the worker has none), as every
    # message of the outbox is.
    title = gettext("Urgent result: %(kind)s of %(name)s") % {
        "kind": exam.get_kind_display(),
        "name": exam.patient.name,
    }
    body = gettext(
        "The specialist marked the report of this exam urgent. Open the patient's record "
        "to read it."
    )
    link = f"/doctor/record/{exam.patient.public_id}/"
    # No name or finding in a text message: only that there is something to read.
    sms = gettext("An urgent exam result is waiting for you: %(link)s") % {"link": link}
    notify(
        account=doctor_account,
        kind=KIND_URGENT,
        subject=exam,
        context={"title": title, "body": body, "link": link, "sms": sms},
        channels=(OutboxMessage.Channel.INAPP, OutboxMessage.Channel.SMS),
    )


def exam_sign(*, exam: Exam, by: Any, findings: str, impression: str, urgent: bool = False) -> Exam:
    """Sign the report once: the specialist who claimed it, or the visit's own doctor for an
    exam never sent. The reader's access then winds down (AFTER_CARE); an urgent report
    notifies the visit's doctor."""
    findings, impression = (findings or "").strip(), (impression or "").strip()
    if not findings and not impression:
        raise clinical_refusal(WRITE_THE_REPORT, "empty")
    with transaction.atomic():
        exam = _exam_lock(exam)
        if exam.is_final:
            raise clinical_refusal(ALREADY_SIGNED, "signed")
        user_id = getattr(by, "pk", None)
        own_unsent = (
            exam.status == Exam.Status.REGISTERED and exam.encounter.doctor.user_id == user_id
        )
        if not own_unsent and not (
            exam.status == Exam.Status.CLAIMED and exam.reader_id == user_id
        ):
            raise clinical_refusal(NOT_YOUR_READING, "not_reader")
        now = timezone.now()
        exam.findings, exam.impression = findings, impression
        exam.is_urgent = bool(urgent)
        exam.status = Exam.Status.FINAL
        exam.signer = by
        exam.signed_at = now
        clinical_full_clean(exam, exclude=["encounter", "patient", "hospital", "ordered_by"])
        exam.save(
            update_fields=["findings", "impression", "is_urgent", "status", "signer", "signed_at"]
        )
        care_relationship_end(source=exam, at=now + AFTER_CARE, by=by)
        clinical_audit(by, "exam.sign", exam, exam.patient, urgent=exam.is_urgent)
        if exam.is_urgent:
            _urgent_notice(exam)
    return exam
