"""The flagship story's first step in a real browser: a parent adds a child with a real name,
an ID number and the consent, and sees the number only masked."""

from __future__ import annotations

import datetime as dt

import pytest

from records.idnumbers import make_id_number
from records.models import Consent, Patient

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_parent_adds_a_child_on_a_phone(page, live_server, alice, password):
    birth = dt.date(2019, 6, 1)
    number = make_id_number(birth_date=birth, sex="male", sequence=12)
    page.goto(live_server.url + "/accounts/login/?next=/me/patients/")
    page.get_by_label("Mobile number or e-mail").fill(alice.email)
    page.get_by_label("Password").fill(password)
    page.locator("main form").get_by_role("button", name="Sign In").click()
    page.wait_for_url(live_server.url + "/me/patients/")

    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("This person is").select_option("child")
    page.get_by_label("Real name").fill("王小明")
    page.get_by_label("ID number", exact=True).fill(number.lower())
    page.get_by_label("I consent").check()
    page.locator("main form").get_by_role("button", name="Continue").click()
    assert page.locator('[data-derived="sex"]').inner_text() == "male"
    page.locator("main form").get_by_role("button", name="Add").click()

    page.wait_for_selector("h1:has-text('王小明')")
    body = page.locator("main").inner_text()
    assert number[:6] + "********" + number[-4:] in body
    assert number not in page.content()
    patient = Patient.objects.get()
    assert Consent.objects.get(patient=patient).on_behalf == "guardian"
