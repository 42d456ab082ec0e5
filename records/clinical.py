"""The verbs that write the clinical record (issue 8): encounters, notes and addenda,
allergies and problems, prescriptions, referrals issued from an encounter.

Each verb is one transaction with keyword-only arguments and writes an AuditEvent (never with
clinical text in it). Refusals are `ClinicalRefused` (a ValidationError) with a message the
doctor can act on; nothing is half-saved.

Who may write: the encounter's own doctor (`encounter.doctor.user`), and only while the
encounter is open. A note may still be signed, and addenda added, by its author after the
encounter closed. Callers (views) turn "not your encounter" into a 404 before calling here; the
check is repeated so no other door can skip it.

Higher apps call in (DESIGN.md §2): appointments opens an in-person encounter at check-in and
closes it on completion; telemedicine opens an online one when the consult goes live and closes
it when the consult ends. Records never imports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from hospitals.models import Department, Doctor, Hospital
from records.access import doctor_hospital_ids
from records.models import (
    Allergy,
    CareRelationship,
    ClinicalNote,
    Drug,
    Encounter,
    NoteAddendum,
    Patient,
    Prescription,
    PrescriptionItem,
    Problem,
    Referral,
)
from records.services import care_relationship_end, care_relationship_grant

# A doctor keeps reading the record this long after the encounter (or the referral) ends.
AFTER_CARE = dt.timedelta(days=7)
# An encounter nobody closes stops granting access after this long.
OPEN_ENCOUNTER_GRANT = dt.timedelta(days=30)
NOTE_FIELDS = ("subjective", "objective", "assessment", "plan", "diagnosis", "icd10_code")


class ClinicalRefused(ValidationError):
    """A clinical write the rules refuse; `code` is stable, the message is shown on the page."""


def _refuse(message: Any, code: str, **params: Any) -> ClinicalRefused:
    return ClinicalRefused(message, code=code, params=params or None)


NOT_YOURS = _("Only the encounter's own doctor can write in it.")
CLOSED = _("This encounter is closed; nothing more can be written in it.")


def referral_valid_days() -> int:
    return int(getattr(settings, "REFERRAL_VALID_DAYS", 30))


def is_encounter_doctor(*, encounter: Encounter, account: Any) -> bool:
    user_id = getattr(account, "pk", None)
    return user_id is not None and encounter.doctor.user_id == user_id


def _lock_encounter(encounter: Encounter) -> Encounter:
    return (
        Encounter.objects.select_for_update(of=("self",))
        .select_related("doctor", "patient", "hospital")
        .get(pk=encounter.pk)
    )


def _writable(encounter: Encounter, *, by: Any) -> Encounter:
    """Lock the encounter and check that `by` is its doctor and it is open."""
    encounter = _lock_encounter(encounter)
    if not is_encounter_doctor(encounter=encounter, account=by):
        raise _refuse(NOT_YOURS, "not_yours")
    if not encounter.is_open:
        raise _refuse(CLOSED, "closed")
    return encounter


def _full_clean(row: Any, *, exclude: list[str]) -> None:
    """Model validation (lengths, the ICD-10 pattern) as a ClinicalRefused."""
    try:
        row.full_clean(exclude=exclude)
    except ValidationError as error:
        raise ClinicalRefused(error.messages, code="invalid") from None


def _audit(by: Any, action: str, target: Any, patient: Patient, **data: Any) -> None:
    audit_record(actor=by, action=action, target=target, on_behalf_of=patient, data=data or None)


# --- Encounters -----------------------------------------------------------------------------


def encounter_open(
    *,
    patient: Patient,
    doctor: Doctor,
    mode: str,
    site: Hospital | None = None,
    department: Department | None = None,
    by: Any = None,
) -> Encounter:
    """Open an encounter of `doctor` with `patient` and let the doctor read the record while it
    is open. `site` is where it happens; the encounter is written at the site when the doctor
    works there, otherwise at the doctor's own hospital (which decides who sees the rows)."""
    if mode not in Encounter.Mode.values:
        raise ValueError(f"unknown encounter mode {mode!r}")
    hospital_id = doctor.hospital_id
    if site is not None and doctor.user_id and site.pk in doctor_hospital_ids(doctor.user):
        hospital_id = site.pk
    with transaction.atomic():
        encounter = Encounter.objects.create(
            patient=patient,
            doctor=doctor,
            hospital_id=hospital_id,
            department=department or doctor.department,
            mode=mode,
        )
        if doctor.user_id:
            care_relationship_grant(
                patient=patient,
                user=doctor.user,
                reason=CareRelationship.Reason.ENCOUNTER,
                until=encounter.started_at + OPEN_ENCOUNTER_GRANT,
                source=encounter,
            )
        _audit(by, "encounter.open", encounter, patient, mode=mode, doctor=doctor.pk)
    return encounter


def encounter_close(*, encounter: Encounter, by: Any = None) -> Encounter:
    """Close an open encounter (a closed one is left as it is). The doctor's access from this
    encounter then runs AFTER_CARE more; another open encounter keeps its own."""
    with transaction.atomic():
        encounter = _lock_encounter(encounter)
        if not encounter.is_open:
            return encounter
        now = timezone.now()
        encounter.status = Encounter.Status.CLOSED
        encounter.ended_at = now
        encounter.save(update_fields=["status", "ended_at"])
        # Only this encounter's grant winds down: another open encounter of the same doctor
        # with the person has its own.
        care_relationship_end(source=encounter, at=now + AFTER_CARE, by=by)
        _audit(by, "encounter.close", encounter, encounter.patient)
    return encounter


# --- Notes ----------------------------------------------------------------------------------


def _clean_note_fields(fields: Mapping[str, Any]) -> dict[str, str]:
    values = {name: str(fields.get(name) or "").strip() for name in NOTE_FIELDS}
    values["icd10_code"] = values["icd10_code"].upper()
    return values


def note_save(
    *,
    encounter: Encounter,
    author: Any,
    note: ClinicalNote | None = None,
    **fields: Any,
) -> ClinicalNote:
    """Create the author's draft note, or update `note` while it is a draft. Fields are the
    SOAP parts, `diagnosis` and an optional `icd10_code`."""
    unknown = set(fields) - set(NOTE_FIELDS)
    if unknown:
        raise TypeError(f"unknown note fields: {sorted(unknown)}")
    values = _clean_note_fields(fields)
    with transaction.atomic():
        encounter = _writable(encounter, by=author)
        if note is None:
            note = ClinicalNote(encounter=encounter, author=author)
            created = True
        else:
            note = ClinicalNote.objects.select_for_update().get(pk=note.pk)
            if note.encounter_id != encounter.pk or note.author_id != author.pk:
                raise _refuse(_("Only the note's author can change it."), "not_author")
            if note.is_signed:
                raise _refuse(
                    _("A signed note is never changed. Add an addendum instead."), "signed"
                )
            created = False
        for name, value in values.items():
            setattr(note, name, value)
        _full_clean(note, exclude=["encounter", "author"])
        note.save()
        _audit(
            author,
            "note.create" if created else "note.update",
            note,
            encounter.patient,
            encounter=encounter.pk,
        )
    return note


def note_sign(*, note: ClinicalNote, by: Any) -> ClinicalNote:
    """Sign a draft note; from then on it is read-only. The author may sign after the
    encounter closed."""
    with transaction.atomic():
        note = (
            ClinicalNote.objects.select_for_update(of=("self",))
            .select_related("encounter__patient")
            .get(pk=note.pk)
        )
        if note.author_id != getattr(by, "pk", None):
            raise _refuse(_("Only the note's author can sign it."), "not_author")
        if note.is_signed:
            return note
        if not any(
            getattr(note, name)
            for name in ("subjective", "objective", "assessment", "plan", "diagnosis")
        ):
            raise _refuse(_("Write the note before signing it."), "empty")
        note.signed_at = timezone.now()
        note.save(update_fields=["signed_at", "updated_at"])
        _audit(by, "note.sign", note, note.encounter.patient, encounter=note.encounter_id)
    return note


def note_addendum_add(*, note: ClinicalNote, author: Any, text: str) -> NoteAddendum:
    """A correction or addition to a signed note, by its author, shown beside it."""
    text = (text or "").strip()
    if not text:
        raise _refuse(_("Write the addendum."), "empty")
    if len(text) > 4000:
        raise _refuse(_("An addendum holds at most 4,000 characters."), "too_long")
    with transaction.atomic():
        note = (
            ClinicalNote.objects.select_for_update(of=("self",))
            .select_related("encounter__patient")
            .get(pk=note.pk)
        )
        if note.author_id != getattr(author, "pk", None):
            raise _refuse(_("Only the note's author can add an addendum."), "not_author")
        if not note.is_signed:
            raise _refuse(_("Edit the draft itself; addenda are for signed notes."), "draft")
        addendum = NoteAddendum.objects.create(note=note, author=author, text=text)
        _audit(author, "note.addendum", addendum, note.encounter.patient, note=note.pk)
    return addendum


# --- Allergies and standing problems ---------------------------------------------------------


def allergy_add(
    *, encounter: Encounter, by: Any, substance: str, severity: str, reaction: str = ""
) -> Allergy:
    substance = (substance or "").strip()
    if not substance:
        raise _refuse(_("Name the substance."), "substance")
    if severity not in Allergy.Severity.values:
        raise _refuse(_("Choose how severe the reaction is."), "severity")
    with transaction.atomic():
        encounter = _writable(encounter, by=by)
        allergy = Allergy(
            patient=encounter.patient,
            substance=substance,
            reaction=(reaction or "").strip(),
            severity=severity,
            hospital=encounter.hospital,
            recorded_by=by,
        )
        _full_clean(allergy, exclude=["patient", "hospital", "recorded_by"])
        allergy.save()
        _audit(by, "allergy.add", allergy, encounter.patient, encounter=encounter.pk)
    return allergy


def allergy_remove(*, allergy: Allergy, encounter: Encounter, by: Any) -> Allergy:
    """Mark an allergy entered in error or no longer true; the row stays in the trail."""
    with transaction.atomic():
        encounter = _writable(encounter, by=by)
        allergy = Allergy.objects.select_for_update().get(pk=allergy.pk)
        if allergy.patient_id != encounter.patient_id:
            raise _refuse(NOT_YOURS, "not_yours")
        if allergy.removed_at is None:
            allergy.removed_at = timezone.now()
            allergy.removed_by = by
            allergy.save(update_fields=["removed_at", "removed_by"])
            _audit(by, "allergy.remove", allergy, encounter.patient, encounter=encounter.pk)
    return allergy


def problem_add(
    *, encounter: Encounter, by: Any, description: str, icd10_code: str = ""
) -> Problem:
    description = (description or "").strip()
    if not description:
        raise _refuse(_("Describe the problem."), "description")
    with transaction.atomic():
        encounter = _writable(encounter, by=by)
        problem = Problem(
            patient=encounter.patient,
            description=description,
            icd10_code=(icd10_code or "").strip().upper(),
            hospital=encounter.hospital,
            recorded_by=by,
        )
        _full_clean(problem, exclude=["patient", "hospital", "recorded_by"])
        problem.save()
        _audit(by, "problem.add", problem, encounter.patient, encounter=encounter.pk)
    return problem


def problem_resolve(*, problem: Problem, encounter: Encounter, by: Any) -> Problem:
    with transaction.atomic():
        encounter = _writable(encounter, by=by)
        problem = Problem.objects.select_for_update().get(pk=problem.pk)
        if problem.patient_id != encounter.patient_id:
            raise _refuse(NOT_YOURS, "not_yours")
        if problem.resolved_at is None:
            problem.resolved_at = timezone.now()
            problem.save(update_fields=["resolved_at"])
            _audit(by, "problem.resolve", problem, encounter.patient, encounter=encounter.pk)
    return problem


# --- Prescriptions --------------------------------------------------------------------------


def _refuse_controlled_online(encounter: Encounter, drugs: Iterable[Drug]) -> None:
    if encounter.mode != Encounter.Mode.ONLINE:
        return
    controlled = [drug for drug in drugs if drug.is_controlled]
    if controlled:
        raise _refuse(
            _(
                "%(drugs)s is a controlled drug and cannot be prescribed in an online consult. "
                "Ask the patient to come in person."
            ),
            "controlled_online",
            drugs=", ".join(str(drug) for drug in controlled),
        )


def _clean_items(items: Iterable[Mapping[str, Any]]) -> list[PrescriptionItem]:
    cleaned = []
    for raw in items:
        drug = raw.get("drug")
        if not isinstance(drug, Drug):
            try:
                drug = Drug.objects.filter(pk=int(drug), is_active=True).first()
            except (TypeError, ValueError):
                drug = None
        if drug is None:
            raise _refuse(_("Choose a drug from the list."), "drug")
        try:
            days = int(raw.get("days"))
            quantity = int(raw.get("quantity"))
        except (TypeError, ValueError):
            message = _("Give the days and the quantity as whole numbers.")
            raise _refuse(message, "numbers") from None
        dose = str(raw.get("dose") or "").strip()
        frequency = str(raw.get("frequency") or "").strip()
        if not dose or not frequency:
            raise _refuse(_("Give the dose and how often to take it."), "dose")
        if not 1 <= days <= 90:
            raise _refuse(_("A prescription lasts 1 to 90 days."), "days")
        if quantity < 1:
            raise _refuse(_("The quantity must be at least 1."), "quantity")
        cleaned.append(
            PrescriptionItem(
                drug=drug, dose=dose[:60], frequency=frequency[:60], days=days, quantity=quantity
            )
        )
    return cleaned


def prescription_save(
    *,
    encounter: Encounter,
    prescriber: Any,
    items: Iterable[Mapping[str, Any]],
    prescription: Prescription | None = None,
) -> Prescription:
    """Create a draft prescription, or replace the items of `prescription` while it is a
    draft. Each item: drug (a Drug or its id), dose, frequency, days, quantity. A controlled
    drug in an online encounter is refused."""
    cleaned = _clean_items(items)
    if not cleaned:
        raise _refuse(_("Add at least one drug."), "empty")
    with transaction.atomic():
        encounter = _writable(encounter, by=prescriber)
        _refuse_controlled_online(encounter, [item.drug for item in cleaned])
        if prescription is None:
            prescription = Prescription.objects.create(encounter=encounter, prescriber=prescriber)
            action = "prescription.create"
        else:
            prescription = Prescription.objects.select_for_update().get(pk=prescription.pk)
            if prescription.encounter_id != encounter.pk:
                raise _refuse(NOT_YOURS, "not_yours")
            if prescription.signed_at is not None:
                raise _refuse(_("A signed prescription is never changed."), "signed")
            prescription.items.all().delete()
            action = "prescription.update"
        for item in cleaned:
            item.prescription = prescription
        PrescriptionItem.objects.bulk_create(cleaned)
        _audit(
            prescriber,
            action,
            prescription,
            encounter.patient,
            encounter=encounter.pk,
            items=len(cleaned),
        )
    return prescription


def prescription_sign(*, prescription: Prescription, by: Any) -> Prescription:
    with transaction.atomic():
        prescription = Prescription.objects.select_for_update().get(pk=prescription.pk)
        encounter = _writable(prescription.encounter, by=by)
        if prescription.prescriber_id != by.pk:
            raise _refuse(NOT_YOURS, "not_yours")
        if prescription.signed_at is not None:
            return prescription
        drugs = [item.drug for item in prescription.items.select_related("drug")]
        if not drugs:
            raise _refuse(_("Add at least one drug."), "empty")
        _refuse_controlled_online(encounter, drugs)
        prescription.signed_at = timezone.now()
        prescription.save(update_fields=["signed_at"])
        _audit(by, "prescription.sign", prescription, encounter.patient, encounter=encounter.pk)
    return prescription


# --- Referrals ------------------------------------------------------------------------------


def _referral_receivers(referral: Referral) -> list[Any]:
    """Who reads the record because of the referral: the named doctor, else the doctors of
    the named department, else nobody until the booking names one."""
    if referral.to_doctor_id:
        doctors = Doctor.objects.filter(pk=referral.to_doctor_id)
    elif referral.to_department_id:
        doctors = Doctor.objects.filter(department_id=referral.to_department_id, is_active=True)
    else:
        return []
    return [doctor.user for doctor in doctors.select_related("user") if doctor.user_id]


def referral_issue(
    *,
    encounter: Encounter,
    by: Any,
    to_hospital: Hospital,
    to_department: Department | None = None,
    to_doctor: Doctor | None = None,
    reason: str = "",
) -> Referral:
    """Refer the encounter's patient to a hospital or clinic (optionally a department or a
    doctor there), valid for REFERRAL_VALID_DAYS; the receiving doctor(s) may read the record
    until it is valid + 7 days."""
    reason = (reason or "").strip()
    if not reason:
        raise _refuse(_("Say why you refer the patient."), "reason")
    if len(reason) > 300:
        raise _refuse(_("Keep the reason under 300 characters."), "reason")
    if not to_hospital.is_active:
        raise _refuse(_("Choose a hospital that is open."), "hospital")
    if to_department is not None and to_department.hospital_id != to_hospital.pk:
        raise _refuse(_("Choose a department of that hospital."), "department")
    if to_doctor is not None and (
        to_doctor.hospital_id != to_hospital.pk
        or (to_department is not None and to_doctor.department_id != to_department.pk)
    ):
        raise _refuse(_("Choose a doctor of that hospital and department."), "doctor")
    with transaction.atomic():
        encounter = _writable(encounter, by=by)
        now = timezone.now()
        referral = Referral.objects.create(
            patient=encounter.patient,
            to_hospital=to_hospital,
            to_department=to_department,
            to_doctor=to_doctor,
            reason=reason,
            encounter=encounter,
            issued_by=by,
            issued_at=now,
            valid_until=now + dt.timedelta(days=referral_valid_days()),
        )
        receivers = _referral_receivers(referral)
        for user in receivers:
            care_relationship_grant(
                patient=encounter.patient,
                user=user,
                reason=CareRelationship.Reason.REFERRAL,
                until=referral.valid_until + AFTER_CARE,
                source=referral,
            )
        _audit(
            by,
            "referral.issue",
            referral,
            encounter.patient,
            encounter=encounter.pk,
            to_hospital=to_hospital.pk,
            to_department=getattr(to_department, "pk", None),
            to_doctor=getattr(to_doctor, "pk", None),
            receivers=len(receivers),
        )
    return referral


def referral_cancel(*, referral: Referral, by: Any) -> Referral:
    """The issuing doctor withdraws a referral nobody has booked yet: it can no longer be
    booked, and the receivers' access from it ends at once (their own appointments, if any,
    keep theirs)."""
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update().select_related("patient").get(pk=referral.pk)
        )
        if by is None or referral.issued_by_id != by.pk:
            raise _refuse(_("Only the doctor who issued the referral can cancel it."), "not_yours")
        if referral.status != Referral.Status.ISSUED:
            raise _refuse(
                _("This referral is booked or done already; it can no longer be cancelled."),
                "not_issued",
            )
        referral.status = Referral.Status.CANCELLED
        referral.save(update_fields=["status"])
        care_relationship_end(source=referral, by=by)
        _audit(
            by,
            "referral.cancel",
            referral,
            referral.patient,
            **{"from": Referral.Status.ISSUED, "to": Referral.Status.CANCELLED},
        )
    return referral


def referral_complete(*, referral: Referral, by: Any = None) -> Referral:
    """The referral's appointment was completed (called by appointments). The receivers keep
    reading for AFTER_CARE from now (not longer than the referral first allowed)."""
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update().select_related("patient").get(pk=referral.pk)
        )
        if referral.status in (Referral.Status.ISSUED, Referral.Status.BOOKED):
            old = referral.status
            referral.status = Referral.Status.COMPLETED
            referral.save(update_fields=["status"])
            care_relationship_end(source=referral, at=timezone.now() + AFTER_CARE, by=by)
            _audit(
                by,
                "referral.complete",
                referral,
                referral.patient,
                **{"from": old, "to": Referral.Status.COMPLETED},
            )
    return referral


def expire_referrals(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Mark every issued referral past its validity as expired, and end the access it gave at
    once; returns how many. Booked ones run their course (the appointment completes or is
    cancelled). Running it twice changes nothing the second time."""
    now = now or timezone.now()
    done = 0
    while True:
        with transaction.atomic():
            due = list(
                Referral.objects.select_for_update(skip_locked=True)
                .select_related("patient")
                .filter(status=Referral.Status.ISSUED, valid_until__lte=now)
                .order_by("pk")[:batch]
            )
            if not due:
                break
            Referral.objects.filter(pk__in=[r.pk for r in due]).update(
                status=Referral.Status.EXPIRED
            )
            for referral in due:
                care_relationship_end(source=referral)
                _audit(
                    None,
                    "referral.expire",
                    referral,
                    referral.patient,
                    **{"from": Referral.Status.ISSUED, "to": Referral.Status.EXPIRED},
                )
            done += len(due)
    return done
