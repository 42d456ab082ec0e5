"""Registering, correcting and removing people, and an adult taking over their own record.

Each verb is a transaction and writes an AuditEvent. Refusals are ValidationErrors with a
message a person can act on; nothing is half-saved.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.services import audit_record
from records import crypto
from records.idnumbers import parse_id_number
from records.models import (
    ADULT_AGE,
    ConsentKind,
    GuardianInvitation,
    Patient,
    PatientLink,
    Relationship,
    age_on,
    names_match,
    today_in_city,
)
from records.selectors import account_acts_for, patient_links, patient_links_for_account
from records.services.consents import consent_create
from records.services.links import (
    account_lock,
    account_room_check,
    patient_link_require,
    patient_manager_require,
)
from records.signals import future_appointments_count, patient_access_changed_on_commit

# The one answer for every mismatch, so that an ID that exists on the platform under other
# details reads exactly like a typing mistake.
DETAILS_MISMATCH = _(
    "These details do not agree with each other. Check the name, ID number, birth date and sex "
    "against the ID card."
)
ALREADY_REGISTERED = _(
    "This person is already registered on the platform. Ask the account that manages them to "
    "invite you as a guardian."
)
HAS_FUTURE_APPOINTMENTS = _(
    "This person has upcoming appointments. Cancel them first, then try again."
)


def _check_details(*, name: str, sex: str, birth_date: dt.date, id_number: str) -> str:
    """The normalised number, once it is valid and agrees with the birth date and sex."""
    facts = parse_id_number(id_number)
    if facts.birth_date != birth_date or facts.sex != sex or not name.strip():
        raise ValidationError(DETAILS_MISMATCH, code="details_mismatch")
    if birth_date > today_in_city():
        raise ValidationError(DETAILS_MISMATCH, code="details_mismatch")
    return facts.number


def _refuse_existing(existing: Patient, *, name: str, birth_date: dt.date, id_number: str) -> None:
    """An ID already on the platform: say so only when name, ID and birth date all match."""
    if (
        names_match(existing.name, name)
        and existing.birth_date == birth_date
        and existing.id_number == id_number
    ):
        raise ValidationError(ALREADY_REGISTERED, code="already_registered")
    raise ValidationError(DETAILS_MISMATCH, code="details_mismatch")


def _refuse_with_future_appointments(patient: Patient) -> None:
    if future_appointments_count(patient=patient) > 0:
        raise ValidationError(HAS_FUTURE_APPOINTMENTS, code="future_appointments")


def patient_add(
    *,
    account: User,
    name: str,
    sex: str,
    birth_date: dt.date,
    id_number: str,
    relationship: str,
    phone: str = "",
    consent_id_and_health_data: bool,
) -> Patient:
    """Register a person, link the account as their manager and record the consent."""
    number = _check_details(name=name, sex=sex, birth_date=birth_date, id_number=id_number)
    if not consent_id_and_health_data:
        raise ValidationError(
            _("Without this consent the platform cannot register the person."),
            code="consent_required",
        )
    if relationship == Relationship.SELF and age_on(birth_date, today_in_city()) < 14:
        raise ValidationError(
            _("A child under 14 is added by a guardian, not as their own account."),
            code="child_as_self",
        )
    number_hash = crypto.id_number_hash(number)
    existing = Patient.objects.filter(id_number_hash=number_hash).first()
    if existing is not None:
        try:
            if account_acts_for(account=account, patient=existing):
                # Nothing to hide from an account that already acts for the person.
                raise ValidationError(
                    _("This person is already on your list."), code="already_yours"
                )
            _refuse_existing(existing, name=name, birth_date=birth_date, id_number=number)
        except ValidationError as refusal:
            # Outside any transaction, so the refusal stays on the trail.
            audit_record(
                actor=account,
                action="patient.add",
                result="denied",
                data={"reason": refusal.code},
            )
            raise
    with transaction.atomic():
        account_lock(account)
        account_room_check(account)
        if (
            relationship == Relationship.SELF
            and patient_links_for_account(account=account).filter(relationship="self").exists()
        ):
            raise ValidationError(
                _("You have already added yourself. Choose another relationship."),
                code="self_taken",
            )
        patient = Patient(name=name.strip(), sex=sex, birth_date=birth_date, phone=phone)
        patient.set_id_number(number)
        try:
            with transaction.atomic():
                patient.save()
        except IntegrityError:
            # Another account registered the same number a moment ago: the same answer as if
            # it had been there before (the savepoint is gone; their row is now visible).
            winner = Patient.objects.filter(id_number_hash=number_hash).first()
            if winner is None:
                raise
            _refuse_existing(winner, name=name, birth_date=birth_date, id_number=number)
        PatientLink.objects.create(
            patient=patient,
            account=account,
            relationship=relationship,
            is_manager=True,
            can_book=True,
            can_read_record=True,
        )
        consent_create(
            patient=patient,
            account=account,
            kind=ConsentKind.ID_AND_HEALTH_DATA,
            relationship=relationship,
        )
        audit_record(
            actor=account,
            action="patient.add",
            target=patient,
            on_behalf_of=patient,
            data={"relationship": relationship, "id_number": patient.id_number_masked},
        )
    return patient


def patient_update(
    *,
    patient: Patient,
    account: User,
    name: str,
    sex: str,
    birth_date: dt.date,
    id_number: str,
    phone: str = "",
) -> Patient:
    """Correct a person's details (their manager only); refused while appointments are ahead.

    An empty `id_number` keeps the stored one, which must still agree with the new details.
    """
    number = _check_details(
        name=name, sex=sex, birth_date=birth_date, id_number=id_number or patient.id_number
    )
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        patient_manager_require(patient=locked, account=account)
        _refuse_with_future_appointments(locked)
        new_hash = crypto.id_number_hash(number)
        if new_hash != locked.id_number_hash:
            other = Patient.objects.filter(id_number_hash=new_hash).first()
            if other is not None:
                _refuse_existing(other, name=name, birth_date=birth_date, id_number=number)
        changed = sorted(
            field
            for field, value in (
                ("name", name.strip()),
                ("sex", sex),
                ("birth_date", birth_date),
                ("phone", phone),
            )
            if getattr(locked, field) != value
        )
        if new_hash != locked.id_number_hash:
            changed.append("id_number")
        locked.name, locked.sex, locked.birth_date, locked.phone = (
            name.strip(),
            sex,
            birth_date,
            phone,
        )
        locked.set_id_number(number)
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise ValidationError(DETAILS_MISMATCH, code="details_mismatch") from None
        audit_record(
            actor=account,
            action="patient.update",
            target=locked,
            on_behalf_of=locked,
            data={"fields": changed},
        )
    return locked


def patient_remove(*, patient: Patient, account: User) -> None:
    """Take a person off the account's list. The person and their record stay on the platform;
    the next manager is the longest-linked remaining account, if any."""
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        link = patient_link_require(patient=locked, account=account)
        _refuse_with_future_appointments(locked)
        now = timezone.now()
        link.revoked_at = now
        link.save(update_fields=["revoked_at"])
        patient_access_changed_on_commit(locked.pk)
        successor = None
        if link.is_manager:
            link.is_manager = False
            link.save(update_fields=["is_manager"])
            successor = patient_links(patient=locked).order_by("created_at", "id").first()
            if successor is not None:
                successor.is_manager = True
                successor.save(update_fields=["is_manager"])
            GuardianInvitation.objects.filter(
                patient=locked, status=GuardianInvitation.Status.PENDING
            ).update(status=GuardianInvitation.Status.REVOKED, responded_at=now)
        audit_record(
            actor=account,
            action="patient.remove",
            target=locked,
            on_behalf_of=locked,
            data={"new_manager": successor.account_id if successor else None},
        )


# --- Front-desk takeover --------------------------------------------------------------------


def patient_claim_self(*, patient: Patient, account: User, verified_by: User) -> PatientLink:
    """An adult takes over their own record after staff checked their ID card in person.

    The account becomes the person's "self" link and their manager; earlier links stay (the
    person can revoke them) but lose the manager role. The desk page that calls this checks
    that `verified_by` works at a front desk.
    """
    if verified_by.pk == account.pk:
        raise ValidationError(
            _("Someone else must check the ID card in person."), code="self_verified"
        )
    with transaction.atomic():
        account_lock(account)
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.age() < ADULT_AGE:
            raise ValidationError(
                _("Only an adult (18 or over) can take over their own record."), code="not_adult"
            )
        own = patient_links_for_account(account=account, patient=locked).first()
        # Either direction (this person's self link, or this account's self link to anybody):
        # neither selector reads both sides, so this stays a direct query.
        other_self = (
            PatientLink.objects.live()
            .filter(models.Q(patient=locked) | models.Q(account=account), relationship="self")
            .exclude(pk=own.pk if own else None)
        )
        if other_self.exists():
            raise ValidationError(
                _("This person or this account already has a record of their own."),
                code="self_taken",
            )
        if own is None:
            account_room_check(account)
        previous = list(
            patient_links(patient=locked).filter(is_manager=True).exclude(account=account)
        )
        PatientLink.objects.filter(pk__in=[p.pk for p in previous]).update(is_manager=False)
        # Invitations the earlier manager sent are theirs to make no longer.
        GuardianInvitation.objects.filter(
            patient=locked, status=GuardianInvitation.Status.PENDING
        ).update(status=GuardianInvitation.Status.REVOKED, responded_at=timezone.now())
        if own is None:
            own = PatientLink(patient=locked, account=account)
        own.relationship = Relationship.SELF
        own.is_manager = True
        own.can_book = own.can_read_record = True
        own.save()
        audit_record(
            actor=verified_by,
            action="patient.claim_self",
            target=locked,
            on_behalf_of=locked,
            data={
                "account": account.pk,
                "previous_managers": [p.account_id for p in previous],
            },
        )
    return own
