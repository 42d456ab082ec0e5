"""Consents (PIPL): given and withdrawn by the person's manager or the person themselves."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.services import audit_record
from records.models import (
    CONSENT_TEXT_VERSIONS,
    Consent,
    ConsentBehalf,
    Patient,
    PatientLink,
    Relationship,
    age_on,
    today_in_city,
)
from records.services.links import patient_link_require
from records.signals import patient_access_changed_on_commit


def consent_behalf_for(*, relationship: str, birth_date: dt.date) -> str:
    if age_on(birth_date, today_in_city()) < 14:
        return ConsentBehalf.GUARDIAN
    if relationship == Relationship.SELF:
        return ConsentBehalf.SELF
    return ConsentBehalf.FAMILY


def consent_create(
    *,
    patient: Patient,
    account: User,
    kind: str,
    relationship: str,
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
    )
    return consent


def _require_consent_holder(*, patient: Patient, account: User) -> PatientLink:
    """Consents are given and withdrawn by the manager or the person themselves."""
    link = patient_link_require(patient=patient, account=account)
    if not (link.is_manager or link.relationship == Relationship.SELF):
        raise ValidationError(
            _("Only the account that manages this person can change their consents."),
            code="not_manager",
        )
    return link


def consent_give(*, patient: Patient, account: User, kind: str) -> Consent:
    with transaction.atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        link = _require_consent_holder(patient=patient, account=account)
        if Consent.objects.filter(patient=patient, kind=kind, revoked_at__isnull=True).exists():
            raise ValidationError(_("This consent is already given."), code="consent_live")
        return consent_create(
            patient=patient,
            account=account,
            kind=kind,
            relationship=link.relationship,
        )


def consent_revoke(*, consent: Consent, account: User) -> Consent:
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        _require_consent_holder(patient=locked.patient, account=account)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_by = account
            locked.save(update_fields=["revoked_at", "revoked_by"])
            # A consult in progress must drop this person's side now (telemedicine consent).
            patient_access_changed_on_commit(locked.patient_id)
        audit_record(
            actor=account,
            action="consent.revoke",
            target=locked,
            on_behalf_of=locked.patient,
            data={"kind": locked.kind},
        )
    return locked
