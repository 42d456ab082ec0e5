"""Repeat prescriptions for chronic patients (慢病续方, issue 20 item 2).

The rules, each a typed refusal (`records.errors.ClinicalRefused`, with a stable code):
- Only a signed prescription, the newest of its chain (one already renewed is not renewed
  again: its renewal is), of a person with a chronic problem (ICD-10 I10–I15 or E10–E14, or
  marked chronic by a doctor), whose every drug is a chronic-care drug of the formulary.
- Never a controlled drug: a prescription holding one is refused whole (`controlled`), with a
  message to book a visit — a renewal without the patient present never carries one, and a
  partial renewal would leave the family unsure what is missing.
- At most once per the days of supply of the last prescription: the next request is possible
  from `signed_at + the longest item's days` (`too_soon` names the day).
- One pending request per prescription (a partial unique index; the row lock makes a double
  click the same refusal).

Whose queue: the prescribing doctor's (the encounter's doctor) while that doctor is active
with an active account; otherwise every active doctor of the prescription's department
(records.selectors_renewals). The rule is read when the queue is read, so a doctor who leaves
while a request waits hands it to the department without anybody moving it.

Approving (as it is, or changed: doses, frequency, days, quantity, or an item left out) opens
and closes an encounter of mode `renewal` at the approving doctor's hospital and signs a new
prescription there whose `prior` is the old one. Declining asks for a visit, with a message
and a link to book. Every step is audited and told to the family (in-app and by SMS, a
bilingual snapshot rendered by notifications.render with `messages/renewal.*`).
Lock order: the renewal request row, then the new encounter (which nobody else can see yet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from hospitals.models import Doctor
from hospitals.when import format_day
from notifications.models import OutboxMessage
from notifications.services import notify
from records.errors import ClinicalRefused, clinical_refusal
from records.models import Encounter, Patient, Prescription, Problem, RenewalRequest
from records.selectors import account_acts_for, patient_links
from records.services.encounters import clinical_audit, encounter_close, encounter_open
from records.services.prescriptions import prescription_save, prescription_sign

KIND_REQUESTED = "renewal.requested"
KIND_APPROVED = "renewal.approved"
KIND_CHANGED = "renewal.changed"
KIND_DECLINED = "renewal.declined"
CHANNELS = (OutboxMessage.Channel.INAPP, OutboxMessage.Channel.SMS)
MIN_MESSAGE = 5

NOT_SIGNED = _("Only a signed prescription can be renewed.")
ALREADY_RENEWED = _("This prescription has already been renewed; ask to renew the newest one.")
NOT_CHRONIC = _(
    "Repeat prescriptions are for a chronic problem on the record (high blood pressure, "
    "diabetes, or one the doctor marked chronic)."
)
NOT_CHRONIC_CARE = _(
    "%(drugs)s cannot be renewed online. Book a visit to have it prescribed again."
)
CONTROLLED = _(
    "%(drugs)s is a controlled drug and is never renewed online: nothing was requested. "
    "Book a visit to have this prescription renewed."
)
TOO_SOON = _("This prescription lasts until %(date)s; a renewal can be asked for from that day.")
PENDING = _("A renewal of this prescription is already waiting for the doctor.")
NOT_PENDING = _("This request has already been answered.")
NOT_YOUR_QUEUE = _("This request is not in your renewal queue.")
WRITE_MESSAGE = _("Tell the family why a visit is needed (at least %(n)d characters).")
EMPTY = _("Keep at least one drug, or ask for a visit instead.")
NOT_FAMILY = _("Only the person's family accounts that may book for them can ask for this.")


@dataclass(frozen=True)
class Eligibility:
    """May this prescription be renewed now? `code` is empty when it may; `next_at` is when
    the supply ends (the first moment a request is possible)."""

    code: str
    message: str
    next_at: dt.datetime | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return not self.code


def supply_ends_at(prescription: Prescription) -> dt.datetime | None:
    """When the last prescription's supply ends: its signing plus its longest item's days.
    Reads the prefetched items."""
    if prescription.signed_at is None:
        return None
    days = max((item.days for item in prescription.items.all()), default=0)
    return prescription.signed_at + dt.timedelta(days=days)


def _drug_names(drugs: Iterable[Any]) -> str:
    return ", ".join(str(drug) for drug in drugs)


def renewal_eligibility(
    *,
    prescription: Prescription,
    problems: Iterable[Problem],
    renewed: bool,
    pending: bool,
    now: dt.datetime | None = None,
) -> Eligibility:
    """The rules above, computed from rows the caller loaded (items with their drugs, the
    person's standing problems, whether a signed renewal or a pending request exists): the
    record page asks it for every prescription without a query of its own."""
    now = now or timezone.now()
    chronic = next((problem for problem in problems if problem.is_chronic), None)
    drugs = [item.drug for item in prescription.items.all()]
    ends = supply_ends_at(prescription)

    def no(code: str, message: Any, **params: Any) -> Eligibility:
        return Eligibility(
            code=code,
            message=str(message) % params if params else str(message),
            next_at=ends,
            problem=chronic,
        )

    if prescription.signed_at is None or not drugs:
        return no("not_signed", NOT_SIGNED)
    if renewed:
        return no("renewed", ALREADY_RENEWED)
    if chronic is None:
        return no("not_chronic", NOT_CHRONIC)
    controlled = [drug for drug in drugs if drug.is_controlled]
    if controlled:
        return no("controlled", CONTROLLED, drugs=_drug_names(controlled))
    other = [drug for drug in drugs if not drug.is_chronic_care]
    if other:
        return no("not_chronic_care", NOT_CHRONIC_CARE, drugs=_drug_names(other))
    if pending:
        return no("pending", PENDING)
    if ends is not None and now < ends:
        day = format_day(timezone.localtime(ends).date())
        return no("too_soon", TOO_SOON, date=day)
    return Eligibility(code="", message="", next_at=ends, problem=chronic)


def _refuse(eligibility: Eligibility) -> ClinicalRefused:
    return ClinicalRefused(eligibility.message, code=eligibility.code)


# --- Whose queue --------------------------------------------------------------------------


def doctor_present(doctor: Doctor) -> bool:
    """The prescribing doctor still takes their own renewals: active, with an active account.
    Reads the doctor's `user` (select it with the doctor)."""
    return bool(doctor.is_active and doctor.user_id and doctor.user.is_active)


def renewal_handler(*, renewal: RenewalRequest, user: Any) -> Doctor | None:
    """The Doctor row through which `user` answers `renewal`, or None: the prescribing doctor
    while present; otherwise an active doctor of the request's department."""
    user_id = getattr(user, "pk", None)
    if user_id is None or not user.is_active:
        return None
    doctor = renewal.doctor
    if doctor_present(doctor):
        return doctor if doctor.user_id == user_id else None
    if renewal.department_id is None:
        return None
    return (
        Doctor.objects.filter(user_id=user_id, is_active=True, department_id=renewal.department_id)
        .select_related("hospital", "department")
        .first()
    )


def queue_owner(doctor: Doctor, department: Any) -> Any:
    """Whom the family's request goes to, to name on the pages and in the messages: the
    prescribing doctor while present, else their department."""
    if doctor_present(doctor) or department is None:
        return doctor
    return department


# --- Messages -----------------------------------------------------------------------------


def _both(texts: Any) -> dict[str, str]:
    """A bilingual text as a message snapshot keeps it: the reader's language picks one."""
    out = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            out[language] = str(texts() if callable(texts) else texts)
    return out


def _drug_label(drug: Any) -> dict[str, str]:
    english = f"{drug.name_en} {drug.strength}" if drug.name_en else str(drug)
    return {"zh-hans": str(drug), "en": english}


def renewal_snapshot(renewal: RenewalRequest, prescription: Prescription) -> dict:
    """What every message about `renewal` may say: the person's name, the doctor, the drugs
    (of `prescription`: the old one, or the new one once signed), the links. No note text."""
    owner = queue_owner(renewal.doctor, renewal.department)
    return {
        "patient": renewal.patient.name,
        "doctor": _both(lambda: owner.display_name),
        "drugs": [_drug_label(item.drug) for item in prescription.items.all()],
        "asked_at": renewal.created_at.isoformat(),
        "tz": settings.TIME_ZONE,
        # The text message links "My record" (one SMS; a person's own page would take two),
        # the inbox the person's record.
        "path": reverse("record_mine"),
        "link": reverse("record_patient", args=[renewal.patient.public_id]) + "#renewals-h",
    }


def _tell_family(renewal: RenewalRequest, *, kind: str, params: dict) -> None:
    for link in patient_links(patient=renewal.patient, can_read=True):
        notify(
            account=link.account,
            kind=kind,
            subject=renewal,
            params=params,
            channels=CHANNELS,
            language=renewal.language or settings.LANGUAGE_CODE,
            chosen=True,
        )


# --- The verbs ----------------------------------------------------------------------------


def _problems(patient: Patient) -> list[Problem]:
    return list(Problem.objects.filter(patient=patient, resolved_at__isnull=True))


def renewal_request(*, prescription: Prescription, account: Any, note: str = "") -> RenewalRequest:
    """The family asks to renew `prescription` with the same drugs and doses."""
    patient = prescription.encounter.patient
    if not account_acts_for(account=account, patient=patient, can_book=True, can_read=True):
        raise clinical_refusal(NOT_FAMILY, "not_family")
    with transaction.atomic():
        prescription = (
            Prescription.objects.select_for_update(of=("self",))
            .select_related(
                "encounter__doctor__user", "encounter__department", "encounter__hospital"
            )
            .prefetch_related("items__drug")
            .get(pk=prescription.pk)
        )
        encounter = prescription.encounter
        eligibility = renewal_eligibility(
            prescription=prescription,
            problems=_problems(patient),
            renewed=prescription.renewed_by.filter(signed_at__isnull=False).exists(),
            pending=RenewalRequest.objects.filter(
                prescription=prescription, status=RenewalRequest.Status.PENDING
            ).exists(),
        )
        if not eligibility.ok:
            raise _refuse(eligibility)
        try:
            with transaction.atomic():
                renewal = RenewalRequest.objects.create(
                    patient=patient,
                    prescription=prescription,
                    problem=eligibility.problem,
                    doctor=encounter.doctor,
                    department_id=encounter.department_id or encounter.doctor.department_id,
                    hospital=encounter.hospital,
                    requested_by=account,
                    note=(note or "").strip()[:500],
                    language=translation.get_language() or settings.LANGUAGE_CODE,
                )
        except IntegrityError:
            raise clinical_refusal(PENDING, "pending") from None
        clinical_audit(
            account,
            "renewal.request",
            renewal,
            patient,
            prescription=str(prescription.public_id),
            queue="doctor" if doctor_present(encounter.doctor) else "department",
        )
        _tell_family(renewal, kind=KIND_REQUESTED, params=renewal_snapshot(renewal, prescription))
    return renewal


def _lock_pending(renewal: RenewalRequest) -> RenewalRequest:
    renewal = (
        RenewalRequest.objects.select_for_update(of=("self",))
        .select_related(
            "patient", "doctor__user", "department__hospital", "prescription__encounter"
        )
        .get(pk=renewal.pk)
    )
    if not renewal.is_pending:
        raise clinical_refusal(NOT_PENDING, "answered")
    return renewal


def _items(
    old: Prescription, changes: Mapping[int, Mapping[str, Any]] | None
) -> tuple[list[dict[str, Any]], bool]:
    """The new prescription's items: the old ones, with `changes` (by the old item's
    position: dose, frequency, days, quantity, `keep`) applied. Drugs are never swapped or
    added. Returns the items and whether anything differs from the old prescription."""
    items, changed = [], False
    for position, line in enumerate(old.items.all()):
        edit = (changes or {}).get(position, {})
        if edit and not edit.get("keep", True):
            changed = True
            continue
        item = {
            "drug": line.drug,
            "dose": edit.get("dose", line.dose),
            "frequency": edit.get("frequency", line.frequency),
            "days": edit.get("days", line.days),
            "quantity": edit.get("quantity", line.quantity),
        }
        before = (line.dose, line.frequency, str(line.days), str(line.quantity))
        after = tuple(str(item[key]).strip() for key in ("dose", "frequency", "days", "quantity"))
        changed = changed or before != after
        items.append(item)
    if not items:
        raise clinical_refusal(EMPTY, "empty")
    return items, changed


def renewal_approve(
    *,
    renewal: RenewalRequest,
    by: Any,
    changes: Mapping[int, Mapping[str, Any]] | None = None,
) -> RenewalRequest:
    """Sign the renewal: the same prescription, or changed (`changes`, see `_items`). The new
    prescription is signed in an encounter of mode `renewal` that opens and closes at once."""
    with transaction.atomic():
        renewal = _lock_pending(renewal)
        doctor = renewal_handler(renewal=renewal, user=by)
        if doctor is None:
            raise clinical_refusal(NOT_YOUR_QUEUE, "not_yours")
        old = Prescription.objects.prefetch_related("items__drug").get(pk=renewal.prescription_id)
        controlled = [item.drug for item in old.items.all() if item.drug.is_controlled]
        if controlled:
            raise clinical_refusal(CONTROLLED, "controlled", drugs=_drug_names(controlled))
        items, changed = _items(old, changes)
        encounter = encounter_open(
            patient=renewal.patient,
            doctor=doctor,
            mode=Encounter.Mode.RENEWAL,
            department=doctor.department,
            by=by,
        )
        new = prescription_save(encounter=encounter, prescriber=by, items=items, prior=old)
        new = prescription_sign(prescription=new, by=by)
        encounter_close(encounter=encounter, by=by)
        renewal.status = (
            RenewalRequest.Status.CHANGED if changed else RenewalRequest.Status.APPROVED
        )
        renewal.renewed = new
        renewal.decided_at = timezone.now()
        renewal.decided_by = by
        renewal.save(update_fields=["status", "renewed", "decided_at", "decided_by"])
        clinical_audit(
            by,
            "renewal.change" if changed else "renewal.approve",
            renewal,
            renewal.patient,
            prescription=str(new.public_id),
            prior=str(old.public_id),
        )
        new = Prescription.objects.prefetch_related("items__drug").get(pk=new.pk)
        params = renewal_snapshot(renewal, new)
        params["doctor"] = _both(lambda: doctor.display_name)
        _tell_family(renewal, kind=KIND_CHANGED if changed else KIND_APPROVED, params=params)
    return renewal


def renewal_decline(*, renewal: RenewalRequest, by: Any, message: str) -> RenewalRequest:
    """Ask for a visit instead: the family is told why, with a link to book the doctor (or
    their department when the doctor is gone)."""
    message = (message or "").strip()
    if len(message) < MIN_MESSAGE:
        raise clinical_refusal(WRITE_MESSAGE, "message", n=MIN_MESSAGE)
    with transaction.atomic():
        renewal = _lock_pending(renewal)
        doctor = renewal_handler(renewal=renewal, user=by)
        if doctor is None:
            raise clinical_refusal(NOT_YOUR_QUEUE, "not_yours")
        renewal.status = RenewalRequest.Status.DECLINED
        renewal.message = message[:500]
        renewal.decided_at = timezone.now()
        renewal.decided_by = by
        renewal.save(update_fields=["status", "message", "decided_at", "decided_by"])
        clinical_audit(by, "renewal.decline", renewal, renewal.patient)
        old = Prescription.objects.prefetch_related("items__drug").get(pk=renewal.prescription_id)
        params = renewal_snapshot(renewal, old)
        params["doctor"] = _both(lambda: doctor.display_name)
        params["book_path"] = renewal_book_path(renewal)
        _tell_family(renewal, kind=KIND_DECLINED, params=params)
    return renewal


def renewal_book_path(renewal: RenewalRequest) -> str:
    """Where the family books the visit the doctor asked for: the prescribing doctor's page
    while they see patients, else their department's."""
    doctor = renewal.doctor
    if doctor.is_active:
        return reverse("doctor_detail", args=[doctor.pk])
    department = renewal.department
    if department is not None:
        return reverse("department_detail", args=[department.hospital.slug, department.slug])
    return reverse("search")
