"""records tells the apps above it (a consult room, through telemedicine) that someone lost the
right to act for a person: once the transaction that took the right away commits, never for a
rolled-back one, and never before the commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from records.services import link_revoke
from records.signals import patient_access_changed
from tests.factories import PatientLinkFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    patient_ids: list[int] = []

    def receiver(sender, *, patient_id, **kwargs) -> None:
        patient_ids.append(patient_id)

    patient_access_changed.connect(receiver, dispatch_uid="tests.patient_access_changed")
    yield patient_ids
    patient_access_changed.disconnect(dispatch_uid="tests.patient_access_changed")


def test_a_revoked_link_is_announced_once_its_transaction_commits(
    heard, django_capture_on_commit_callbacks
):
    manager = PatientLinkFactory(is_manager=True)
    patient = manager.patient
    kept, revoked = (
        PatientLinkFactory(patient=patient, account=UserFactory(), is_manager=False)
        for _index in range(2)
    )

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            link_revoke(link=kept, by=manager.account)
            raise RuntimeError("rolled back")
        link_revoke(link=revoked, by=manager.account)
        assert heard == []  # not before the commit

    assert heard == [patient.pk]
