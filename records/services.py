"""The verbs that change people, links, consents, invitations and care relationships.

Each one is a transaction and writes an AuditEvent. Refusals are ValidationErrors with a
message a person can act on; nothing is half-saved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.services import audit_record
from records import crypto, hooks
from records.idnumbers import parse_id_number
from records.models import (
    ADULT_AGE,
    CONSENT_TEXT_VERSIONS,
    CareRelationship,
    Consent,
    ConsentBehalf,
    ConsentKind,
    GuardianInvitation,
    Patient,
    PatientLink,
    Relationship,
    age_on,
    names_match,
    today_in_city,
)

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
TOO_MANY_PEOPLE = _("An account can act for at most %(max)d people.")
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


def _lock_account(account: User) -> None:
    # Serialises one account's additions, so two racing requests cannot make a seventh link.
    User.objects.select_for_update().filter(pk=account.pk).first()


def _check_room_for_one_more(account: User) -> None:
    if PatientLink.objects.live().filter(account=account).count() >= PatientLink.MAX_PER_ACCOUNT:
        raise ValidationError(
            TOO_MANY_PEOPLE, code="too_many_people", params={"max": PatientLink.MAX_PER_ACCOUNT}
        )


def _refuse_with_future_appointments(patient: Patient) -> None:
    if hooks.future_appointment_count(patient) > 0:
        raise ValidationError(HAS_FUTURE_APPOINTMENTS, code="future_appointments")


def consent_behalf_for(*, relationship: str, birth_date: dt.date) -> str:
    if age_on(birth_date, today_in_city()) < 14:
        return ConsentBehalf.GUARDIAN
    if relationship == Relationship.SELF:
        return ConsentBehalf.SELF
    return ConsentBehalf.FAMILY


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
    request: HttpRequest | None = None,
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
            if PatientLink.objects.live().filter(patient=existing, account=account).exists():
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
                request=request,
            )
            raise
    with transaction.atomic():
        _lock_account(account)
        _check_room_for_one_more(account)
        if (
            relationship == Relationship.SELF
            and PatientLink.objects.live().filter(account=account, relationship="self").exists()
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
        _consent_create(
            patient=patient,
            account=account,
            kind=ConsentKind.ID_AND_HEALTH_DATA,
            relationship=relationship,
            request=request,
        )
        audit_record(
            actor=account,
            action="patient.add",
            target=patient,
            on_behalf_of=patient,
            data={"relationship": relationship, "id_number": patient.id_number_masked},
            request=request,
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
    request: HttpRequest | None = None,
) -> Patient:
    """Correct a person's details (their manager only); refused while appointments are ahead.

    An empty `id_number` keeps the stored one, which must still agree with the new details.
    """
    number = _check_details(
        name=name, sex=sex, birth_date=birth_date, id_number=id_number or patient.id_number
    )
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        _require_manager(patient=locked, account=account)
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
            request=request,
        )
    return locked


def patient_remove(*, patient: Patient, account: User, request: HttpRequest | None = None) -> None:
    """Take a person off the account's list. The person and their record stay on the platform;
    the next manager is the longest-linked remaining account, if any."""
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        link = _live_link(patient=locked, account=account)
        _refuse_with_future_appointments(locked)
        now = timezone.now()
        link.revoked_at = now
        link.save(update_fields=["revoked_at"])
        hooks.patient_access_changed(locked.pk)
        successor = None
        if link.is_manager:
            link.is_manager = False
            link.save(update_fields=["is_manager"])
            successor = (
                PatientLink.objects.live()
                .filter(patient=locked)
                .order_by("created_at", "id")
                .first()
            )
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
            request=request,
        )


def _live_link(*, patient: Patient, account: User) -> PatientLink:
    link = PatientLink.objects.live().filter(patient=patient, account=account).first()
    if link is None:
        raise PermissionError("the account does not act for this person")
    return link


def _require_manager(*, patient: Patient, account: User) -> PatientLink:
    link = _live_link(patient=patient, account=account)
    if not link.is_manager:
        raise ValidationError(
            _("Only the account that manages this person can do that."), code="not_manager"
        )
    return link


def link_revoke(*, link: PatientLink, by: User, request: HttpRequest | None = None) -> None:
    """The manager withdraws another account's access; it ends at that account's next request,
    and a consult it is in closes its socket (records.hooks.patient_access_changed)."""
    with transaction.atomic():
        locked = PatientLink.objects.select_for_update().get(pk=link.pk)
        _require_manager(patient=locked.patient, account=by)
        if locked.account_id == by.pk:
            raise ValidationError(
                _("To take this person off your own list, use Remove."), code="own_link"
            )
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            # A consult in progress must drop this account now, not when it hangs up.
            hooks.patient_access_changed(locked.patient_id)
        audit_record(
            actor=by,
            action="patient_link.revoke",
            target=locked,
            on_behalf_of=locked.patient,
            data={"account": locked.account_id},
            request=request,
        )


# --- Consent --------------------------------------------------------------------------------


def _consent_create(
    *,
    patient: Patient,
    account: User,
    kind: str,
    relationship: str,
    request: HttpRequest | None = None,
) -> Consent:
    consent = Consent.objects.create(
        patient=patient,
        kind=kind,
        given_by=account,
        on_behalf=consent_behalf_for(relationship=relationship, birth_date=patient.birth_date),
        text_version=CONSENT_TEXT_VERSIONS[kind],
    )
    audit_record(
        actor=account,
        action="consent.give",
        target=consent,
        on_behalf_of=patient,
        data={"kind": kind, "on_behalf": consent.on_behalf, "version": consent.text_version},
        request=request,
    )
    return consent


def _require_consent_holder(*, patient: Patient, account: User) -> PatientLink:
    """Consents are given and withdrawn by the manager or the person themselves."""
    link = _live_link(patient=patient, account=account)
    if not (link.is_manager or link.relationship == Relationship.SELF):
        raise ValidationError(
            _("Only the account that manages this person can change their consents."),
            code="not_manager",
        )
    return link


def consent_give(
    *, patient: Patient, account: User, kind: str, request: HttpRequest | None = None
) -> Consent:
    with transaction.atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        link = _require_consent_holder(patient=patient, account=account)
        if Consent.objects.filter(patient=patient, kind=kind, revoked_at__isnull=True).exists():
            raise ValidationError(_("This consent is already given."), code="consent_live")
        return _consent_create(
            patient=patient,
            account=account,
            kind=kind,
            relationship=link.relationship,
            request=request,
        )


def consent_revoke(
    *, consent: Consent, account: User, request: HttpRequest | None = None
) -> Consent:
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        _require_consent_holder(patient=locked.patient, account=account)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_by = account
            locked.save(update_fields=["revoked_at", "revoked_by"])
            # A consult in progress must drop this person's side now (telemedicine consent).
            hooks.patient_access_changed(locked.patient_id)
        audit_record(
            actor=account,
            action="consent.revoke",
            target=locked,
            on_behalf_of=locked.patient,
            data={"kind": locked.kind},
            request=request,
        )
    return locked


# --- Guardian invitations -------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_find(token: str) -> GuardianInvitation | None:
    return (
        GuardianInvitation.objects.select_related("patient", "invited_by")
        .filter(token_hash=_token_hash(token))
        .first()
    )


def _send_invitation_email(invitation: GuardianInvitation, token: str, base_url: str) -> None:
    # Rendered in the inviter's language at send time; shows the masked ID number only.
    context = {
        "invitation": invitation,
        "patient_name": invitation.patient.name,
        "masked_id": invitation.patient.id_number_masked,
        "inviter": invitation.invited_by.get_full_name(),
        "url": base_url + reverse("invitation_respond", args=[token]),
    }
    subject = render_to_string("records/email/invitation_subject.txt", context).strip()
    body = render_to_string("records/email/invitation_body.txt", context)
    send_mail(
        settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject,
        body,
        None,
        [invitation.email],
    )


def invitation_create(
    *,
    patient: Patient,
    invited_by: User,
    email: str,
    relationship: str,
    can_book: bool = True,
    can_read_record: bool = True,
    base_url: str = "",
    request: HttpRequest | None = None,
) -> tuple[GuardianInvitation, str]:
    """Invite a second guardian by e-mail. Returns the invitation and its one-time token."""
    email = email.strip().lower()
    with transaction.atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        _require_manager(patient=patient, account=invited_by)
        if email == invited_by.email.lower():
            raise ValidationError(_("You cannot invite your own account."), code="self_invite")
        if (
            PatientLink.objects.live()
            .filter(patient=patient, account__email__iexact=email)
            .exists()
        ):
            raise ValidationError(
                _("This account already acts for the person."), code="already_linked"
            )
        now = timezone.now()
        GuardianInvitation.objects.filter(
            patient=patient, email=email, status=GuardianInvitation.Status.PENDING
        ).update(status=GuardianInvitation.Status.REVOKED, responded_at=now)
        token = secrets.token_urlsafe(32)
        invitation = GuardianInvitation.objects.create(
            patient=patient,
            invited_by=invited_by,
            email=email,
            relationship=relationship,
            can_book=can_book,
            can_read_record=can_read_record,
            token_hash=_token_hash(token),
            expires_at=now + GuardianInvitation.VALID_FOR,
        )
        audit_record(
            actor=invited_by,
            action="invitation.create",
            target=invitation,
            on_behalf_of=patient,
            data={"relationship": relationship},
            request=request,
        )
        language = translation.get_language()

        def send() -> None:
            with translation.override(language):
                _send_invitation_email(invitation, token, base_url)

        transaction.on_commit(send)
    return invitation, token


def _open_invitation(invitation: GuardianInvitation) -> GuardianInvitation:
    locked = GuardianInvitation.objects.select_for_update().get(pk=invitation.pk)
    if not locked.is_open():
        raise ValidationError(
            _("This invitation is no longer valid. Ask for a new one."), code="invitation_closed"
        )
    return locked


def _has_verified_email(account: User, email: str) -> bool:
    return EmailAddress.objects.filter(user=account, email__iexact=email, verified=True).exists()


def invitation_accept(
    *, invitation: GuardianInvitation, account: User, request: HttpRequest | None = None
) -> PatientLink:
    with transaction.atomic():
        _lock_account(account)
        locked = _open_invitation(invitation)
        if not _has_verified_email(account, locked.email):
            audit_record(
                actor=account,
                action="invitation.accept",
                target=locked,
                result="denied",
                data={"reason": "email_mismatch"},
                request=request,
            )
            raise ValidationError(
                _(
                    "This invitation was sent to another e-mail address. Sign in with the "
                    "account that uses it, after verifying that address."
                ),
                code="email_mismatch",
            )
        if PatientLink.objects.live().filter(patient=locked.patient, account=account).exists():
            raise ValidationError(
                _("Your account already acts for this person."), code="already_linked"
            )
        _check_room_for_one_more(account)
        link = PatientLink.objects.create(
            patient=locked.patient,
            account=account,
            relationship=locked.relationship,
            can_book=locked.can_book,
            can_read_record=locked.can_read_record,
        )
        locked.status = GuardianInvitation.Status.ACCEPTED
        locked.responded_at = timezone.now()
        locked.accepted_by = account
        locked.save(update_fields=["status", "responded_at", "accepted_by"])
        audit_record(
            actor=account,
            action="invitation.accept",
            target=locked,
            on_behalf_of=locked.patient,
            data={"link": link.pk},
            request=request,
        )
    return link


def invitation_decline(
    *, invitation: GuardianInvitation, account: User, request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        locked = _open_invitation(invitation)
        locked.status = GuardianInvitation.Status.DECLINED
        locked.responded_at = timezone.now()
        locked.save(update_fields=["status", "responded_at"])
        audit_record(
            actor=account,
            action="invitation.decline",
            target=locked,
            on_behalf_of=locked.patient,
            request=request,
        )


def invitation_revoke(
    *, invitation: GuardianInvitation, by: User, request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        locked = GuardianInvitation.objects.select_for_update().get(pk=invitation.pk)
        _require_manager(patient=locked.patient, account=by)
        if locked.status == GuardianInvitation.Status.PENDING:
            locked.status = GuardianInvitation.Status.REVOKED
            locked.responded_at = timezone.now()
            locked.save(update_fields=["status", "responded_at"])
        audit_record(
            actor=by,
            action="invitation.revoke",
            target=locked,
            on_behalf_of=locked.patient,
            request=request,
        )


# --- Front-desk takeover --------------------------------------------------------------------


def patient_claim_self(
    *, patient: Patient, account: User, verified_by: User, request: HttpRequest | None = None
) -> PatientLink:
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
        _lock_account(account)
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.age() < ADULT_AGE:
            raise ValidationError(
                _("Only an adult (18 or over) can take over their own record."), code="not_adult"
            )
        own = PatientLink.objects.live().filter(patient=locked, account=account).first()
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
            _check_room_for_one_more(account)
        previous = list(
            PatientLink.objects.live()
            .filter(patient=locked, is_manager=True)
            .exclude(account=account)
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
            request=request,
        )
    return own


# --- Care relationships ---------------------------------------------------------------------


def _source_fields(source: models.Model | str | None) -> dict[str, Any]:
    """How a grant names its source: an object (appointment, encounter, referral) by content
    type and id, or a free text (break-glass's typed reason) as a label only."""
    if isinstance(source, models.Model):
        return {
            "source_type": ContentType.objects.get_for_model(source),
            "source_id": str(source.pk),
            "source_label": str(source)[:200],
        }
    if source:
        return {"source_label": source[:200]}
    return {}


def care_relationship_grant(
    *,
    patient: Patient,
    user: User,
    reason: str,
    until: dt.datetime,
    source: models.Model | str | None = None,
) -> CareRelationship:
    """Let a staff account read a person's record until `until`, for `reason`.

    Each source object (an appointment, an encounter, a referral) gets its own grant, so that
    ending that source ends only its grant (`care_relationship_end`); a second grant for the
    same person, account, reason and source object is extended (never shortened) rather than
    duplicated. Called by appointments inside the booking transaction.
    """
    now = timezone.now()
    if until <= now:
        raise ValueError("a care relationship must end in the future")
    source_fields = _source_fields(source)
    with transaction.atomic():
        existing = (
            CareRelationship.objects.select_for_update()
            .filter(
                patient=patient,
                user=user,
                reason=reason,
                # A grant without a source object (break-glass) is matched among those alone.
                source_type=source_fields.get("source_type"),
                source_id=source_fields.get("source_id", ""),
                revoked_at__isnull=True,
                starts_at__lte=now,
                ends_at__gt=now,
            )
            .order_by("-ends_at")
            .first()
        )
        if existing is not None:
            if until > existing.ends_at:
                existing.ends_at = until
                existing.save(update_fields=["ends_at"])
            grant, verb = existing, "care_relationship.extend"
        else:
            grant = CareRelationship.objects.create(
                patient=patient,
                user=user,
                reason=reason,
                starts_at=now,
                ends_at=until,
                **source_fields,
            )
            verb = "care_relationship.grant"
        audit_record(
            actor=None,
            action=verb,
            target=grant,
            on_behalf_of=patient,
            data={"user": user.pk, "reason": reason, "until": grant.ends_at.isoformat()},
        )
    return grant


def care_relationship_end(
    *, source: models.Model, at: dt.datetime | None = None, by: User | None = None
) -> int:
    """End the live grants that `source` (an appointment, a referral, an encounter) gave:
    at once, or with `at` no later than `at` (a grant is never lengthened here). Returns how
    many grants changed.

    Access is any live grant, so the same doctor keeps reading when another reason still
    holds (another appointment, an open encounter, a referral, break-glass): each has its own
    grant. Callers call it inside the transaction that ends the source (cancel, reschedule,
    closure, a referral's cancel, expiry or completion); the grant rows come last in the lock
    order (DESIGN.md §3), in primary-key order.
    """
    now = timezone.now()
    changed = 0
    with transaction.atomic():
        grants = list(
            CareRelationship.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(
                source_type=ContentType.objects.get_for_model(source),
                source_id=str(source.pk),
                revoked_at__isnull=True,
                ends_at__gt=now,
            )
            .order_by("pk")
        )
        for grant in grants:
            if at is None or at <= now or at <= grant.starts_at:
                grant.revoked_at = now
                grant.save(update_fields=["revoked_at"])
            elif at < grant.ends_at:
                grant.ends_at = at
                grant.save(update_fields=["ends_at"])
            else:
                continue
            changed += 1
            audit_record(
                actor=by,
                action="care_relationship.end",
                target=grant,
                on_behalf_of=grant.patient,
                data={
                    "user": grant.user_id,
                    "reason": grant.reason,
                    "source": grant.source_label,
                    "until": (grant.revoked_at or grant.ends_at).isoformat(),
                },
            )
    return changed


def care_relationship_revoke(*, grant: CareRelationship, by: User | None = None) -> None:
    with transaction.atomic():
        locked = CareRelationship.objects.select_for_update().get(pk=grant.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
        audit_record(
            actor=by,
            action="care_relationship.revoke",
            target=locked,
            on_behalf_of=locked.patient,
            data={"user": locked.user_id, "reason": locked.reason},
        )


# --- Keys -----------------------------------------------------------------------------------


def id_numbers_reencrypt(*, batch_size: int = 500) -> int:
    """Re-encrypt every stored ID number under the newest key; returns how many rows."""
    done = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                Patient.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pk", "id_number_encrypted")[:batch_size]
            )
            if not rows:
                break
            for row in rows:
                row.id_number_encrypted = crypto.reencrypt(row.id_number_encrypted)
            Patient.objects.bulk_update(rows, ["id_number_encrypted"])
            last_pk = rows[-1].pk
            done += len(rows)
    audit_record(actor=None, action="patient.reencrypt_id_numbers", data={"rows": done})
    return done
