"""The accounts that act for a person: the checks every verb on a person starts with, and the
manager withdrawing another account's access."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.services import audit_record
from records.models import Patient, PatientLink
from records.selectors import patient_links_for_account
from records.signals import patient_access_changed_on_commit

TOO_MANY_PEOPLE = _("An account can act for at most %(max)d people.")


def account_lock(account: User) -> None:
    # Serialises one account's additions, so two racing requests cannot make a seventh link.
    User.objects.select_for_update().filter(pk=account.pk).first()


def account_room_check(account: User) -> None:
    if patient_links_for_account(account=account).count() >= PatientLink.MAX_PER_ACCOUNT:
        raise ValidationError(
            TOO_MANY_PEOPLE, code="too_many_people", params={"max": PatientLink.MAX_PER_ACCOUNT}
        )


def patient_link_require(*, patient: Patient, account: User) -> PatientLink:
    link = patient_links_for_account(account=account, patient=patient).first()
    if link is None:
        raise PermissionError("the account does not act for this person")
    return link


def patient_manager_require(*, patient: Patient, account: User) -> PatientLink:
    link = patient_link_require(patient=patient, account=account)
    if not link.is_manager:
        raise ValidationError(
            _("Only the account that manages this person can do that."), code="not_manager"
        )
    return link


def link_revoke(*, link: PatientLink, by: User) -> None:
    """The manager withdraws another account's access; it ends at that account's next request,
    and a consult it is in closes its socket (records.signals.patient_access_changed)."""
    with transaction.atomic():
        locked = PatientLink.objects.select_for_update().get(pk=link.pk)
        patient_manager_require(patient=locked.patient, account=by)
        if locked.account_id == by.pk:
            raise ValidationError(
                _("To take this person off your own list, use Remove."), code="own_link"
            )
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            # A consult in progress must drop this account now, not when it hangs up.
            patient_access_changed_on_commit(locked.patient_id)
        audit_record(
            actor=by,
            action="patient_link.revoke",
            target=locked,
            on_behalf_of=locked.patient,
            data={"account": locked.account_id},
        )
