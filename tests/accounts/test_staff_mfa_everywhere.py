"""No staff page on a password alone: an account that must hold a second factor and has none
reaches nothing but MFA set-up, the account pages and the public health check — checked on every
URL the site has, so a page added tomorrow is covered."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.middleware import RequireMFAMiddleware
from tests.factories import DoctorFactory, HospitalFactory, StaffMembershipFactory, UserFactory
from tests.portal.routes import site_paths

pytestmark = pytest.mark.django_db


def staff_without_a_second_factor(staff):
    hospital = HospitalFactory(slug="x")
    admin = StaffMembershipFactory(user=UserFactory(), hospital=hospital).user
    desk = StaffMembershipFactory(user=UserFactory(), hospital=hospital, role="front_desk").user
    doctor = DoctorFactory(user=UserFactory()).user
    StaffMembershipFactory(user=doctor, hospital=hospital, role="doctor")
    return {"platform admin": staff, "hospital admin": admin, "front desk": desk, "doctor": doctor}


def test_staff_without_a_second_factor_reach_no_page_but_mfa_set_up(client, staff):
    paths = [p for p in site_paths() if not p.startswith(RequireMFAMiddleware.EXEMPT_PREFIXES)]
    assert "/manage/x/" in paths and "/doctor/" in paths and "/desk/" in paths
    reached = {}
    for role, user in staff_without_a_second_factor(staff).items():
        client.force_login(user)
        for path in paths:
            response = client.get(path)
            if response.status_code != 302 or response["Location"] != reverse("mfa_activate_totp"):
                reached[(role, path)] = response.status_code

    assert reached == {}
