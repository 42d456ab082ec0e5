"""Links in e-mails, SMS, .ics files and the inbox point at the running server: in development
the one `make run` started (SITE_URL from its PORT), in a deployment https://SITE_DOMAIN."""

from __future__ import annotations

import pytest
from django.test import override_settings

from appointments.ics import appointment_ics
from tests.factories import AppointmentFactory
from tests.portal.test_settings import PRODUCTION_ENV, _manage

PRINT_SITE_URL = (
    "shell",
    "--no-imports",
    "-c",
    "from django.conf import settings; print(settings.SITE_URL)",
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DJANGO_SETTINGS_MODULE": "portal.settings"}, "http://127.0.0.1:8000"),
        (
            {"DJANGO_SETTINGS_MODULE": "portal.settings", "SITE_URL": "http://127.0.0.1:8001/"},
            "http://127.0.0.1:8001",
        ),
        ({**PRODUCTION_ENV, "SITE_DOMAIN": "portal.example.cn"}, "https://portal.example.cn"),
    ],
    ids=["development", "make-run-with-PORT", "deployment"],
)
def test_site_url_follows_the_environment(env, expected):
    result = _manage(*PRINT_SITE_URL, env=env)
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr


@pytest.mark.django_db
@override_settings(SITE_URL="http://127.0.0.1:8001")
def test_the_calendar_file_links_to_the_running_server():
    appointment = AppointmentFactory()
    unfolded = appointment_ics(appointment).decode().replace("\r\n ", "")
    assert f"http://127.0.0.1:8001/appointments/{appointment.code}/" in unfolded
    assert "https://localhost" not in unfolded
