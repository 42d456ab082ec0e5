"""The people an account acts for are read in one place (records.selectors): only live links
count, and a right asked for (book, read the record) must be on that same link."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from records.selectors import (
    account_acts_for,
    patient_links,
    patient_links_for_account,
    patients_for_account,
)
from tests.factories import PatientFactory, PatientLinkFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def household():
    account = UserFactory()
    both = PatientLinkFactory(account=account, relationship="self").patient
    books_only = PatientLinkFactory(account=account, can_read_record=False).patient
    reads_only = PatientLinkFactory(account=account, can_book=False, is_manager=False).patient
    gone = PatientLinkFactory(account=account, revoked_at=timezone.now()).patient
    # Someone else's link to a person this account reads but may not book for: the rights of
    # one link never combine with another account's.
    PatientLinkFactory(patient=reads_only, account=UserFactory(), is_manager=True)
    return account, both, books_only, reads_only, gone


def test_only_live_links_count(household):
    account, both, books_only, reads_only, gone = household

    assert list(patients_for_account(account=account)) == [both, books_only, reads_only]
    assert [link.patient for link in patient_links_for_account(account=account)] == [
        both,
        books_only,
        reads_only,
    ]
    assert not account_acts_for(account=account, patient=gone)
    assert account not in [link.account for link in patient_links(patient=gone)]


def test_a_right_asked_for_is_on_the_same_live_link(household):
    account, both, books_only, reads_only, _gone = household

    assert list(patients_for_account(account=account, can_book=True)) == [both, books_only]
    assert list(patients_for_account(account=account, can_read=True)) == [both, reads_only]
    assert list(patients_for_account(account=account, can_book=True, can_read=True)) == [both]
    assert account_acts_for(account=account, patient=books_only.pk, can_book=True)
    assert not account_acts_for(account=account, patient=reads_only, can_book=True)
    assert not account_acts_for(account=account, patient=books_only, can_read=True)
    assert list(patient_links_for_account(account=account, patient=reads_only, can_read=True))


def test_a_visitor_acts_for_nobody(household):
    _account, both, *_rest = household

    assert not patients_for_account(account=AnonymousUser()).exists()
    assert not account_acts_for(account=AnonymousUser(), patient=both)
    assert not account_acts_for(account=None, patient=both)


def test_a_persons_readers_are_the_live_links_that_read(household):
    account, _both, books_only, reads_only, _gone = household

    assert account in [link.account for link in patient_links(patient=reads_only, can_read=True)]
    assert account not in [
        link.account for link in patient_links(patient=books_only, can_read=True)
    ]
    assert PatientFactory() not in patients_for_account(account=account)
