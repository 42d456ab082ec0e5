"""Reads about people. Every read is scoped to the asking account's live links, so a revoked
link stops working at the very next request."""

from __future__ import annotations

import datetime as dt
from typing import Any

import phonenumbers
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from hospitals.models import Doctor
from records.crypto import id_number_hash
from records.models import (
    CareRelationship,
    Consent,
    Encounter,
    GuardianInvitation,
    Patient,
    PatientLink,
    RenewalRequest,
    names_match,
)


def _signed_in(account: Any) -> bool:
    return account is not None and account.is_authenticated


def _live_links(
    *, account: Any, patient: Any = None, can_book: bool | None = None, can_read: bool | None = None
) -> QuerySet[PatientLink]:
    links = PatientLink.objects.live().filter(account=account)
    if patient is not None:
        links = links.filter(patient=patient)
    if can_book is not None:
        links = links.filter(can_book=can_book)
    if can_read is not None:
        links = links.filter(can_read_record=can_read)
    return links


def patient_links_for_account(
    *,
    account: User,
    patient: Any = None,
    can_book: bool | None = None,
    can_read: bool | None = None,
) -> QuerySet[PatientLink]:
    """The account's live links (to one person when `patient`, a Patient or its id, is given;
    only those that may book or read the record when asked), each person loaded in the same
    query, oldest first."""
    return (
        _live_links(account=account, patient=patient, can_book=can_book, can_read=can_read)
        .select_related("patient")
        .order_by("created_at", "id")
    )


def patients_for_account(
    *, account: Any, can_book: bool | None = None, can_read: bool | None = None
) -> QuerySet[Patient]:
    """The people this account acts for through a live link (that may book or read the record
    when asked), in the order they were linked; none for a visitor who is not signed in."""
    if not _signed_in(account):
        return Patient.objects.none()
    # One .filter() call, so every condition is on the same link row.
    conditions: dict[str, Any] = {"links__account": account, "links__revoked_at__isnull": True}
    if can_book is not None:
        conditions["links__can_book"] = can_book
    if can_read is not None:
        conditions["links__can_read_record"] = can_read
    return Patient.objects.filter(**conditions).order_by("links__created_at", "pk")


def account_acts_for(
    *, account: Any, patient: Any, can_book: bool | None = None, can_read: bool | None = None
) -> bool:
    """Whether the account has a live link to this person (a Patient or its id) that may book
    or read the record when asked. One EXISTS query; False for a visitor."""
    if not _signed_in(account):
        return False
    return _live_links(
        account=account, patient=patient, can_book=can_book, can_read=can_read
    ).exists()


def patient_link_for_account(*, account: User, public_id) -> PatientLink | None:
    """The account's live link to one person, or None when it has none (show a 404)."""
    if not account.is_authenticated:
        return None
    return patient_links_for_account(account=account).filter(patient__public_id=public_id).first()


def patient_links(*, patient: Patient, can_read: bool | None = None) -> QuerySet[PatientLink]:
    """The live links to a person (only those that read the record when asked), each account
    loaded in the same query, the manager first."""
    links = PatientLink.objects.live().filter(patient=patient)
    if can_read is not None:
        links = links.filter(can_read_record=can_read)
    return links.select_related("account").order_by("-is_manager", "created_at", "id")


def patient_consents(*, patient: Patient) -> QuerySet[Consent]:
    return Consent.objects.filter(patient=patient).select_related("given_by")


def patient_consents_live(*, patient: Any, kind: str) -> QuerySet[Consent]:
    """A person's standing consents of one kind (for an EXISTS inside a larger read)."""
    return Consent.objects.filter(patient=patient, kind=kind, revoked_at__isnull=True)


def patient_has_consent(*, patient: Patient, kind: str) -> bool:
    return patient_consents_live(patient=patient, kind=kind).exists()


def patient_open_invitations(*, patient: Patient) -> QuerySet[GuardianInvitation]:
    return GuardianInvitation.objects.filter(
        patient=patient,
        status=GuardianInvitation.Status.PENDING,
        expires_at__gt=timezone.now(),
    )


def care_relationship_live(
    *, patient: Patient, user: User, at: dt.datetime | None = None
) -> CareRelationship | None:
    at = at or timezone.now()
    return (
        CareRelationship.objects.filter(
            patient=patient,
            user=user,
            revoked_at__isnull=True,
            starts_at__lte=at,
            ends_at__gt=at,
        )
        .order_by("-ends_at")
        .first()
    )


def record_links_for_account(*, account: User) -> list[PatientLink]:
    """The people whose record this account may read (its live links that read the record),
    the account's own self first."""
    links = list(patient_links_for_account(account=account, can_read=True))
    return sorted(links, key=lambda link: link.relationship != "self")


def referrals_of_patient(*, patient: Patient) -> QuerySet:
    from records.models import Referral

    return Referral.objects.filter(patient=patient).select_related(
        "to_hospital", "to_department", "to_doctor", "to_department__hospital"
    )


def is_encounter_doctor(*, encounter: Encounter, account: Any) -> bool:
    user_id = getattr(account, "pk", None)
    return user_id is not None and encounter.doctor.user_id == user_id


def patient_by_identity(
    *, name: str, id_number: str, birth_date: dt.date | None = None
) -> Patient | None:
    """The person with exactly this ID number (found by its keyed hash) and this name, and
    this birth date when one is given (an ID card read at a desk), or None: a partial match
    answers exactly like no match. Emergency access looks up by number and name only."""
    patient = Patient.objects.filter(id_number_hash=id_number_hash(id_number or "")).first()
    if patient is None or not names_match(patient.name, name or ""):
        return None
    if birth_date is not None and patient.birth_date != birth_date:
        return None
    return patient


def account_by_email_or_phone(value: str) -> User | None:
    """An active account by its e-mail address, or by its verified mobile number (mainland
    numbers may be typed without +86)."""
    value = value.strip()
    if not value:
        return None
    if "@" in value:
        return User.objects.filter(email__iexact=value, is_active=True).first()
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return User.objects.filter(phone=e164, phone_verified=True, is_active=True).first()


def encounter_drafts(*, encounter: Encounter | None) -> dict[str, list]:
    """What of an encounter is still unsigned: its draft notes and prescriptions (the page that
    ends a visit or a consult says they stay drafts)."""
    if encounter is None:
        return {"notes": [], "prescriptions": []}
    return {
        "notes": list(encounter.notes.filter(signed_at=None).select_related("author")),
        "prescriptions": list(
            encounter.prescriptions.filter(signed_at=None).prefetch_related("items__drug")
        ),
    }


def renewal_queue_filter(*, user: Any) -> Q:
    """Pending requests waiting for `user`: their own as the prescribing doctor while
    present, and their department's whose doctor is gone (inactive, or without an active
    account)."""
    departments = list(
        Doctor.objects.filter(user=user, is_active=True, department__isnull=False).values_list(
            "department_id", flat=True
        )
    )
    doctor_gone = (
        Q(doctor__is_active=False) | Q(doctor__user__isnull=True) | Q(doctor__user__is_active=False)
    )
    mine = Q(doctor__user=user, doctor__is_active=True, doctor__user__is_active=True)
    return Q(status="pending") & (mine | (Q(department_id__in=departments) & doctor_gone))


def renewal_waits_for(*, user: Any, patient: Any) -> bool:
    """Whether a renewal request of this person waits in this account's queue (the reason
    records.access lets the doctor read the record while it does). One query, plus one for
    the account's departments."""
    if getattr(user, "pk", None) is None:
        return False
    return RenewalRequest.objects.filter(renewal_queue_filter(user=user), patient=patient).exists()
