"""The session and account reads every signed-in request makes (portal/request_reads.py, issue
16) say what Django's own database session store and model backend say, and the roles read
with the account follow a membership the moment it changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hospitals.models import StaffMembership
from hospitals.selectors import hospital_roles
from portal import request_reads
from tests.factories import StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def stored_session(**data) -> str:
    store = db.SessionStore()
    store.update(data)
    store.create()
    return store.session_key


def test_a_session_loads_as_djangos_store_loads_it():
    key = stored_session(a=1, b="二")
    mine, theirs = request_reads.SessionStore(key), db.SessionStore(key)
    assert mine.load() == theirs.load() == {"a": 1, "b": "二"}
    assert mine.session_key == theirs.session_key == key


@pytest.mark.parametrize("case", ["unknown", "expired"])
def test_an_unknown_or_expired_session_loads_empty_and_drops_its_key(case):
    key = stored_session(a=1) if case == "expired" else "x" * 32
    if case == "expired":
        db.SessionStore.get_model_class().objects.filter(session_key=key).update(
            expire_date=timezone.now() - dt.timedelta(seconds=1)
        )
    mine, theirs = request_reads.SessionStore(key), db.SessionStore(key)
    assert mine.load() == theirs.load() == {}
    assert mine.session_key is theirs.session_key is None


def test_the_account_loads_as_the_model_backend_loads_it():
    user = UserFactory(name="张伟", phone="+8613900000001", phone_verified=True)
    mine = request_reads.PortalModelBackend().get_user(user.pk)
    theirs = ModelBackend().get_user(user.pk)
    fields = [f.attname for f in type(user)._meta.concrete_fields]
    assert [getattr(mine, f) for f in fields] == [getattr(theirs, f) for f in fields]
    assert request_reads.PortalAllauthBackend().get_user(user.pk) == theirs


def test_no_account_and_an_inactive_one_are_nobody():
    user = UserFactory(is_active=False)
    assert request_reads.PortalModelBackend().get_user(user.pk) is None
    assert request_reads.PortalModelBackend().get_user(user.pk + 1000) is None


def test_the_account_comes_with_its_roles_in_one_statement():
    user = UserFactory()
    StaffMembershipFactory(user=user, role=StaffMembership.Role.DOCTOR)
    StaffMembershipFactory(user=user, role=StaffMembership.Role.DOCTOR)
    StaffMembershipFactory(user=user, role=StaffMembership.Role.FRONT_DESK)
    with CaptureQueriesContext(connection) as seen:
        loaded = request_reads.PortalModelBackend().get_user(user.pk)
        roles = hospital_roles(user=loaded)
    assert len(seen.captured_queries) == 1
    assert roles == {StaffMembership.Role.DOCTOR, StaffMembership.Role.FRONT_DESK}
    assert roles == hospital_roles(user=UserFactory._meta.model.objects.get(pk=user.pk))


def test_a_role_taken_away_is_gone_at_the_next_request(client):
    user = UserFactory()
    membership = StaffMembershipFactory(user=user, role=StaffMembership.Role.HOSPITAL_ADMIN)
    assert hospital_roles(user=request_reads.PortalModelBackend().get_user(user.pk))
    membership.delete()
    assert hospital_roles(user=request_reads.PortalModelBackend().get_user(user.pk)) == set()
