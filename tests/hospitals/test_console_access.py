"""Only a hospital's admins (and platform admins) reach its console; everything else is a 404."""

from __future__ import annotations

import pytest

from hospitals.models import StaffMembership
from tests.conftest import with_totp
from tests.factories import (
    DepartmentFactory,
    DoctorFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# (method, path template); {h} is the hospital slug, {dep} a department id, {doc} a doctor id.
CONSOLE_URLS = [
    ("get", "/manage/{h}/"),
    ("get", "/manage/{h}/departments/"),
    ("get", "/manage/{h}/departments/add/"),
    ("post", "/manage/{h}/departments/add/"),
    ("get", "/manage/{h}/departments/{dep}/edit/"),
    ("post", "/manage/{h}/departments/{dep}/edit/"),
    ("get", "/manage/{h}/departments/{dep}/deactivate/"),
    ("post", "/manage/{h}/departments/{dep}/deactivate/"),
    ("get", "/manage/{h}/doctors/"),
    ("get", "/manage/{h}/doctors/add/"),
    ("post", "/manage/{h}/doctors/add/"),
    ("get", "/manage/{h}/doctors/{doc}/"),
    ("get", "/manage/{h}/doctors/{doc}/edit/"),
    ("post", "/manage/{h}/doctors/{doc}/edit/"),
    ("get", "/manage/{h}/doctors/{doc}/deactivate/"),
    ("post", "/manage/{h}/doctors/{doc}/deactivate/"),
    ("post", "/manage/{h}/doctors/{doc}/invite/"),
]
IDS = [f"{method} {path}" for method, path in CONSOLE_URLS]


@pytest.fixture
def two_hospitals():
    """Hospital A with its admin, and hospital B with a department, a doctor and its staff."""
    doctor_a = DoctorFactory()
    doctor_b = DoctorFactory()
    a, b = doctor_a.hospital, doctor_b.hospital
    return {
        "a": a,
        "b": b,
        "doctor_a": doctor_a,
        "doctor_b": doctor_b,
        "admin_a": with_totp(StaffMembershipFactory(hospital=a).user),
        "admin_b": with_totp(StaffMembershipFactory(hospital=b).user),
    }


def _url(path: str, hospital, department, doctor) -> str:
    return path.format(h=hospital.slug, dep=department.pk, doc=doctor.pk)


def _call(client, method: str, url: str):
    return getattr(client, method)(url, {}) if method == "post" else client.get(url)


@pytest.mark.parametrize(("method", "path"), CONSOLE_URLS, ids=IDS)
def test_admin_of_one_hospital_gets_404_for_every_console_url_of_another(
    client, two_hospitals, method, path
):
    b, doctor_b = two_hospitals["b"], two_hospitals["doctor_b"]
    client.force_login(two_hospitals["admin_a"])

    response = _call(client, method, _url(path, b, doctor_b.department, doctor_b))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m, p in CONSOLE_URLS if "{dep}" in p or "{doc}" in p],
    ids=[i for i, (m, p) in zip(IDS, CONSOLE_URLS, strict=True) if "{dep}" in p or "{doc}" in p],
)
def test_another_hospitals_object_under_the_admins_own_hospital_is_a_404(
    client, two_hospitals, method, path
):
    a, doctor_b = two_hospitals["a"], two_hospitals["doctor_b"]
    client.force_login(two_hospitals["admin_a"])

    response = _call(client, method, _url(path, a, doctor_b.department, doctor_b))

    assert response.status_code == 404


@pytest.mark.parametrize(("method", "path"), CONSOLE_URLS, ids=IDS)
def test_the_hospitals_own_admin_and_a_platform_admin_reach_every_console_url(
    client, two_hospitals, platform_admin, method, path
):
    b, doctor_b = two_hospitals["b"], two_hospitals["doctor_b"]
    url = _url(path, b, doctor_b.department, doctor_b)
    for account in (two_hospitals["admin_b"], platform_admin):
        client.force_login(account)

        response = _call(client, method, url)

        # 200 for pages, 302 after a change, 400 for an empty form: never 404.
        assert response.status_code in {200, 302, 400}, (account, response.status_code)


@pytest.mark.parametrize("role", [StaffMembership.Role.DOCTOR, StaffMembership.Role.FRONT_DESK])
@pytest.mark.parametrize(("method", "path"), CONSOLE_URLS, ids=IDS)
def test_doctors_and_front_desk_of_the_hospital_get_404(client, two_hospitals, role, method, path):
    b, doctor_b = two_hospitals["b"], two_hospitals["doctor_b"]
    member = with_totp(StaffMembershipFactory(hospital=b, role=role).user)
    client.force_login(member)

    assert _call(client, method, _url(path, b, doctor_b.department, doctor_b)).status_code == 404


@pytest.mark.parametrize(("method", "path"), CONSOLE_URLS, ids=IDS)
def test_patients_get_404_and_anonymous_visitors_are_sent_to_sign_in(
    client, two_hospitals, method, path
):
    b, doctor_b = two_hospitals["b"], two_hospitals["doctor_b"]
    url = _url(path, b, doctor_b.department, doctor_b)

    anonymous = _call(client, method, url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")

    client.force_login(UserFactory())
    assert _call(client, method, url).status_code == 404


def test_console_index_lists_only_managed_hospitals_and_is_404_for_everyone_else(
    client, two_hospitals
):
    client.force_login(two_hospitals["admin_a"])
    page = client.get("/manage/").content.decode()
    assert f'href="/manage/{two_hospitals["a"].slug}/"' in page
    assert f'href="/manage/{two_hospitals["b"].slug}/"' not in page

    for role in (StaffMembership.Role.DOCTOR, StaffMembership.Role.FRONT_DESK):
        client.force_login(with_totp(StaffMembershipFactory(role=role).user))
        assert client.get("/manage/").status_code == 404
    client.force_login(UserFactory())
    assert client.get("/manage/").status_code == 404
    client.logout()
    assert client.get("/manage/")["Location"].startswith("/accounts/login/")


def test_a_hospital_admin_sees_the_manage_link_and_a_patient_does_not(client, two_hospitals):
    client.force_login(two_hospitals["admin_a"])
    assert 'href="/manage/"' in client.get("/").content.decode()

    client.force_login(UserFactory())
    assert 'href="/manage/"' not in client.get("/").content.decode()


def test_a_department_of_another_hospital_cannot_be_given_to_a_doctor(client, two_hospitals):
    a, doctor_a = two_hospitals["a"], two_hospitals["doctor_a"]
    foreign_department = DepartmentFactory(hospital=two_hospitals["b"])
    client.force_login(two_hospitals["admin_a"])

    response = client.post(
        f"/manage/{a.slug}/doctors/{doctor_a.pk}/edit/",
        {"name": "x", "department": foreign_department.pk, "title": "attending"},
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    doctor_a.refresh_from_db()
    assert doctor_a.department_id != foreign_department.pk
