"""Only the hospital's admins and platform admins reach its schedule console; every object of
another hospital is a 404, and so is every page for doctors, front desk and patients."""

from __future__ import annotations

import pytest
from django.urls import reverse

from appointments.models import Closure, ScheduleRule, Slot
from tests.conftest import sign_in_recently, with_totp
from tests.factories import ScheduleRuleFactory, StaffMembershipFactory

pytestmark = pytest.mark.django_db

DAY = "2027-01-04"


def console_urls(site, objects):
    """Every console URL, for the hospital `site` with the doctor/rule of `objects`."""
    slug = site["hospital"].slug
    doctor = objects["doctor"].pk
    rule = objects["rule"].pk
    return [
        reverse("console_rota_list", kwargs={"hospital_slug": slug}),
        reverse("console_rota", kwargs={"hospital_slug": slug, "doctor_id": doctor}),
        reverse(
            "console_rota_edit",
            kwargs={"hospital_slug": slug, "doctor_id": doctor, "rule_id": rule},
        ),
        reverse(
            "console_rota_delete",
            kwargs={"hospital_slug": slug, "doctor_id": doctor, "rule_id": rule},
        ),
        reverse("console_calendar_links", kwargs={"hospital_slug": slug, "doctor_id": doctor}),
        reverse("console_schedule_preview", kwargs={"hospital_slug": slug}),
        reverse("console_closures", kwargs={"hospital_slug": slug}),
        reverse("console_closure_new", kwargs={"hospital_slug": slug}),
        reverse("console_today", kwargs={"hospital_slug": slug}),
        reverse("console_day", kwargs={"hospital_slug": slug, "day": DAY}),
        reverse("console_day_csv", kwargs={"hospital_slug": slug, "day": DAY}),
    ]


def test_the_hospitals_admin_reaches_every_console_page(client, hospital_a):
    sign_in_recently(client, hospital_a["admin"])

    for url in console_urls(hospital_a, hospital_a):
        response = client.get(url, follow=url.endswith("/day/"))
        assert response.status_code == 200, url


def test_a_platform_admin_reaches_every_hospitals_console(client, hospital_a, platform_admin):
    sign_in_recently(client, platform_admin)

    for url in console_urls(hospital_a, hospital_a):
        assert client.get(url, follow=url.endswith("/day/")).status_code == 200, url


def test_every_page_of_another_hospital_is_a_404(client, hospital_a, hospital_b):
    client.force_login(hospital_a["admin"])

    for url in console_urls(hospital_b, hospital_b):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"scope": "hospital"}).status_code == 404, url


def test_another_hospitals_doctor_or_rota_line_under_my_hospital_is_a_404(
    client, hospital_a, hospital_b
):
    client.force_login(hospital_a["admin"])
    foreign = console_urls(hospital_a, hospital_b)[1:5]
    mixed = {"doctor": hospital_a["doctor"], "rule": ScheduleRuleFactory(weekday=3)}
    other_doctors_rule = console_urls(hospital_a, mixed)[2:4]

    for url in foreign + other_doctors_rule:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {}).status_code == 404, url
    assert ScheduleRule.objects.count() == 3


@pytest.mark.parametrize("role", ["doctor", "front_desk"])
def test_doctors_and_front_desk_of_the_hospital_get_404_everywhere(client, hospital_a, role):
    member = with_totp(StaffMembershipFactory(hospital=hospital_a["hospital"], role=role).user)
    client.force_login(member)

    for url in console_urls(hospital_a, hospital_a):
        assert client.get(url).status_code == 404, url


def test_a_patient_gets_404_everywhere(client, hospital_a, alice):
    client.force_login(alice)

    for url in console_urls(hospital_a, hospital_a):
        assert client.get(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_sign_in(client, hospital_a):
    for url in console_urls(hospital_a, hospital_a):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url


def test_refused_posts_change_nothing(client, hospital_a, hospital_b):
    client.force_login(hospital_a["admin"])
    slug = hospital_b["hospital"].slug
    before = (Slot.objects.count(), Closure.objects.count(), ScheduleRule.objects.count())

    client.post(
        reverse("console_closure_new", kwargs={"hospital_slug": slug}),
        {
            "scope": "hospital",
            "starts_at": "2020-01-01T00:00",
            "ends_at": "2040-01-01T00:00",
            "reason": "x",
            "confirm": "yes",
        },
    )
    client.post(reverse("console_schedule_preview", kwargs={"hospital_slug": slug}))
    client.post(
        reverse(
            "console_rota_delete",
            kwargs={
                "hospital_slug": slug,
                "doctor_id": hospital_b["doctor"].pk,
                "rule_id": hospital_b["rule"].pk,
            },
        )
    )

    assert (Slot.objects.count(), Closure.objects.count(), ScheduleRule.objects.count()) == before
    assert Slot.objects.filter(closed_at__isnull=False).count() == 0
