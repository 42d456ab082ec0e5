"""Guardian invitations: a person's manager invites a second account by e-mail."""

from __future__ import annotations

import hashlib
import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.services import audit_record
from notifications.models import OutboxMessage
from notifications.services import notify
from records.models import GuardianInvitation, Patient, PatientLink
from records.selectors import account_acts_for, patient_links
from records.services.links import account_lock, account_room_check, patient_manager_require


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_find(token: str) -> GuardianInvitation | None:
    return (
        GuardianInvitation.objects.select_related("patient", "invited_by")
        .filter(token_hash=_token_hash(token))
        .first()
    )


def _invitation_email(invitation: GuardianInvitation, token: str, base_url: str) -> None:
    """Write the e-mail to the invited address (which may have no account yet) to the outbox,
    in the caller's transaction; it goes out after commit. Rendered in the inviter's language;
    shows the masked ID number only. The link holds the one-time token: `secret`, so the
    outbox blanks the text once it is sent."""
    context = {
        "invitation": invitation,
        "patient_name": invitation.patient.name,
        "masked_id": invitation.patient.id_number_masked,
        "inviter": invitation.invited_by.get_full_name(),
        "url": base_url + reverse("invitation_respond", args=[token]),
    }
    subject = render_to_string("records/email/invitation_subject.txt", context).strip()
    body = render_to_string("records/email/invitation_body.txt", context)
    notify(
        account=None,
        address=invitation.email,
        kind="invitation.sent",
        subject=invitation,
        channels=(OutboxMessage.Channel.EMAIL,),
        context={"title": settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, "body": body},
        secret=True,
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
) -> tuple[GuardianInvitation, str]:
    """Invite a second guardian by e-mail. Returns the invitation and its one-time token."""
    email = email.strip().lower()
    with transaction.atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        patient_manager_require(patient=patient, account=invited_by)
        if email == invited_by.email.lower():
            raise ValidationError(_("You cannot invite your own account."), code="self_invite")
        if patient_links(patient=patient).filter(account__email__iexact=email).exists():
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
        )
        _invitation_email(invitation, token, base_url)
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


def invitation_accept(*, invitation: GuardianInvitation, account: User) -> PatientLink:
    with transaction.atomic():
        account_lock(account)
        locked = _open_invitation(invitation)
        if not _has_verified_email(account, locked.email):
            audit_record(
                actor=account,
                action="invitation.accept",
                target=locked,
                result="denied",
                data={"reason": "email_mismatch"},
            )
            raise ValidationError(
                _(
                    "This invitation was sent to another e-mail address. Sign in with the "
                    "account that uses it, after verifying that address."
                ),
                code="email_mismatch",
            )
        if account_acts_for(account=account, patient=locked.patient):
            raise ValidationError(
                _("Your account already acts for this person."), code="already_linked"
            )
        account_room_check(account)
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
        )
    return link


def invitation_decline(*, invitation: GuardianInvitation, account: User) -> None:
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
        )


def invitation_revoke(*, invitation: GuardianInvitation, by: User) -> None:
    with transaction.atomic():
        locked = GuardianInvitation.objects.select_for_update().get(pk=invitation.pk)
        patient_manager_require(patient=locked.patient, account=by)
        if locked.status == GuardianInvitation.Status.PENDING:
            locked.status = GuardianInvitation.Status.REVOKED
            locked.responded_at = timezone.now()
            locked.save(update_fields=["status", "responded_at"])
        audit_record(
            actor=by,
            action="invitation.revoke",
            target=locked,
            on_behalf_of=locked.patient,
        )
