"""The booking story in a real browser on a phone: search, open a doctor, book for a child,
find it in My appointments, cancel it."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from appointments.models import Appointment
from tests.appointments.conftest import open_slot, person
from tests.factories import DepartmentFactory, DoctorFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_parent_books_for_a_child_and_cancels(page, live_server, alice, password):
    person(alice, name="李丽")
    son, _ = person(alice, relationship="child", name="王小明", birth_date=dt.date(2019, 6, 1))
    skin = DepartmentFactory(name="皮肤科", name_en="Dermatology")
    doctor = DoctorFactory(department=skin, name_en="Zhou Ruoxi", user=UserFactory())
    slot = open_slot(doctor=doctor, capacity=3)

    page.goto(live_server.url + "/accounts/login/?next=/search/")
    page.get_by_label("Mobile number or e-mail").fill(alice.email)
    page.get_by_label("Password").fill(password)
    page.locator("main form").get_by_role("button", name="Sign In").click()
    page.wait_for_url(live_server.url + "/search/")

    page.get_by_label("Doctor, department, specialty or hospital").fill("dermatology")
    page.locator("main form").get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Zhou Ruoxi").click()
    page.wait_for_url(f"{live_server.url}/doctors/{doctor.pk}/")

    page.locator(f'[data-slot="{slot.pk}"] a.period-book').click()
    page.wait_for_url(f"{live_server.url}/appointments/book/{slot.pk}/")
    assert "held for you" in page.locator("main").inner_text()
    page.get_by_label("Who is the appointment for?").select_option(label="王小明")
    page.get_by_label("Reason for the visit (optional)").fill("皮疹三周")
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_url(re.compile(r".*/appointments/[A-Za-z0-9-]+/$"))

    appointment = Appointment.objects.get(patient=son)
    assert appointment.code in page.locator("main").inner_text()
    assert page.locator("figure.qr svg").count() == 1

    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My appointments").click()
    page.wait_for_url(live_server.url + "/appointments/")
    upcoming = page.locator("main").inner_text()
    assert "王小明" in upcoming and "Zhou Ruoxi" in upcoming

    page.locator(f'a[href="/appointments/{appointment.code}/"]').click()
    page.get_by_role("link", name="Cancel appointment").click()
    page.wait_for_selector("h1:has-text('Cancel this appointment?')")
    page.get_by_role("button", name="Yes, cancel it").click()
    page.wait_for_selector("text=Appointment cancelled")
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    assert "Cancelled" in page.locator("main").inner_text()
