"""The console's day export holds patients' names: it asks for the password again unless it was
typed in the last five minutes, and every export is in the audit trail."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.urls import reverse

from audit.models import AuditEvent
from tests.conftest import sign_in_recently

pytestmark = pytest.mark.django_db


def export_url(hospital_a) -> str:
    day = hospital_a["slot"].start.date().isoformat()
    return reverse(
        "console_day_csv", kwargs={"hospital_slug": hospital_a["hospital"].slug, "day": day}
    )


def test_the_export_asks_for_the_password_again_after_five_minutes(client, hospital_a, password):
    admin = hospital_a["admin"]
    url = export_url(hospital_a)
    with time_machine.travel(time.time(), tick=False) as clock:
        sign_in_recently(client, admin)
        assert client.get(url)["Content-Type"].startswith("text/csv")

        clock.shift(5 * 60 + 1)
        asked = client.get(url)
        assert asked.status_code == 302
        assert asked["Location"].startswith(reverse("account_reauthenticate"))
        # only the first export is in the trail: the prompt exported nothing
        assert AuditEvent.objects.filter(action="export.day_csv", actor=admin).count() == 1

        client.post(asked["Location"], {"password": password})
        again = client.get(url)

        assert again["Content-Type"].startswith("text/csv")


def test_each_export_writes_who_exported_which_day_of_which_hospital(client, hospital_a):
    admin = hospital_a["admin"]
    sign_in_recently(client, admin)

    client.get(export_url(hospital_a))

    event = AuditEvent.objects.get(action="export.day_csv")
    assert event.actor == admin
    assert event.target == hospital_a["hospital"]
    assert event.data["day"] == hospital_a["slot"].start.date().isoformat()


def test_another_hospitals_export_is_a_404_before_any_password_prompt(
    client, hospital_a, hospital_b
):
    sign_in_recently(client, hospital_a["admin"])

    assert client.get(export_url(hospital_b)).status_code == 404
    assert not AuditEvent.objects.filter(action="export.day_csv").exists()
