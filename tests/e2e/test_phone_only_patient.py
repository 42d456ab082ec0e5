"""Issue 18: a new patient signs up, signs in and books with nothing but a mobile phone — no
e-mail, no password — reading each SMS code from the console log, as a developer does."""

from __future__ import annotations

import logging
import re

import pytest
from django.urls import reverse

from accounts.models import User
from appointments.models import Appointment
from notifications import sms
from tests.appointments.conftest import open_slot, person
from tests.factories import DepartmentFactory, DoctorFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "139 1234 5678"


@pytest.fixture
def console_sms(settings, caplog):
    """The development backend: texts go to the log, the number masked."""
    settings.SMS_BACKEND = "notifications.sms.ConsoleBackend"
    sms._backend.cache_clear()
    caplog.set_level(logging.INFO, logger="notifications.sms")
    yield caplog
    sms._backend.cache_clear()


def code_from_log(caplog) -> str:
    texts = [r.getMessage() for r in caplog.records if r.getMessage().startswith("SMS to ")]
    assert texts, "no SMS in the console log"
    assert "+86 139****5678" in texts[-1]  # masked, as the console always writes it
    return re.search(r"\b(\d{6})\b", texts[-1]).group(1)


def enter_code(page, caplog, button: str) -> None:
    page.locator("input[name=code]").fill(code_from_log(caplog))
    page.locator("main form").get_by_role("button", name=button).click()


def test_a_new_patient_signs_up_signs_in_and_books_with_only_a_phone(
    page, live_server, console_sms
):
    skin = DepartmentFactory(name="皮肤科", name_en="Dermatology")
    doctor = DoctorFactory(department=skin, name_en="Zhou Ruoxi", user=UserFactory())
    slot = open_slot(doctor=doctor, capacity=3)

    # Sign up: the number alone, then the code it receives.
    page.goto(live_server.url + "/accounts/signup/")
    page.get_by_label("Mobile phone").fill(NUMBER)
    page.locator("main form").get_by_role("button", name="Sign Up").click()
    page.wait_for_url(live_server.url + reverse("account_verify_phone"))
    enter_code(page, console_sms, "Confirm")
    page.wait_for_url(live_server.url + "/")

    user = User.objects.get(phone="+8613912345678")
    assert user.phone_verified and user.email is None and not user.has_usable_password()
    person(user, name="赵一鸣")  # adding a person is test_family's story

    # Sign out, then back in with the number and a fresh code.
    page.get_by_role("button", name="Menu").click()
    page.locator("#site-nav").get_by_role("button", name="Sign out").click()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("link", name="Send me a sign-in code").click()
    page.get_by_label("Mobile phone").fill(NUMBER)
    page.locator("main form").get_by_role("button", name="Request Code").click()
    page.wait_for_url(live_server.url + reverse("account_confirm_login_code"))
    enter_code(page, console_sms, "Confirm")
    page.wait_for_url(live_server.url + "/")

    # Book.
    page.goto(f"{live_server.url}/doctors/{doctor.pk}/")
    page.locator(f'[data-slot="{slot.pk}"] a.period-book').click()
    page.wait_for_url(f"{live_server.url}/appointments/book/{slot.pk}/")
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_url(re.compile(r".*/appointments/[A-Za-z0-9-]+/$"))

    appointment = Appointment.objects.get(booked_by=user)
    assert appointment.code in page.locator("main").inner_text()
