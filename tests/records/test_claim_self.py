"""An adult takes over their own record at a front desk (the desk page comes later)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from records.models import PatientLink
from records.services import patient_claim_self
from tests.factories import PatientFactory, PatientLinkFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db):
    return StaffFactory(email="desk@example.com", is_superuser=False)


def test_an_adult_takes_over_and_the_parent_stays_linked_without_managing(alice, desk):
    grown_up = UserFactory(email="son@example.com")
    parents = PatientLinkFactory(account=alice, patient__birth_date=dt.date(2000, 1, 1))
    patient = parents.patient

    own = patient_claim_self(patient=patient, account=grown_up, verified_by=desk)

    assert (own.account, own.relationship, own.is_manager) == (grown_up, "self", True)
    parents.refresh_from_db()
    assert parents.revoked_at is None and not parents.is_manager
    event = AuditEvent.objects.get(action="patient.claim_self")
    assert event.actor == desk
    assert event.data["previous_managers"] == [alice.pk]


def test_an_existing_guardian_link_of_the_same_account_becomes_self(alice, bob, desk):
    patient = PatientFactory(birth_date=dt.date(1995, 5, 5))
    PatientLinkFactory(account=alice, patient=patient)
    bobs = PatientLinkFactory(account=bob, patient=patient, is_manager=False, relationship="spouse")

    own = patient_claim_self(patient=patient, account=bob, verified_by=desk)

    assert own.pk == bobs.pk
    assert PatientLink.objects.live().filter(patient=patient).count() == 2


def test_a_child_cannot_take_over_their_record(alice, desk):
    child = PatientLinkFactory(account=alice, patient__birth_date=dt.date(2015, 1, 1)).patient

    with pytest.raises(ValidationError) as refused:
        patient_claim_self(patient=child, account=UserFactory(), verified_by=desk)

    assert refused.value.code == "not_adult"


def test_nobody_verifies_their_own_id_card(alice):
    patient = PatientFactory()

    with pytest.raises(ValidationError) as refused:
        patient_claim_self(patient=patient, account=alice, verified_by=alice)

    assert refused.value.code == "self_verified"


def test_an_account_that_already_has_its_own_record_cannot_claim_another(alice, desk):
    PatientLinkFactory(account=alice, relationship="self")
    other = PatientFactory()

    with pytest.raises(ValidationError) as refused:
        patient_claim_self(patient=other, account=alice, verified_by=desk)

    assert refused.value.code == "self_taken"


def test_the_earlier_managers_pending_invitations_end_with_the_takeover(alice, desk):
    from django.utils import timezone

    from records.models import GuardianInvitation

    patient = PatientLinkFactory(account=alice, patient__birth_date=dt.date(1999, 1, 1)).patient
    GuardianInvitation.objects.create(
        patient=patient,
        invited_by=alice,
        email="x@example.com",
        relationship="other",
        token_hash="2" * 64,
        expires_at=timezone.now() + GuardianInvitation.VALID_FOR,
    )

    patient_claim_self(patient=patient, account=UserFactory(), verified_by=desk)

    assert GuardianInvitation.objects.get().status == "revoked"
