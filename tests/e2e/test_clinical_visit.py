"""The clinic doctor's visit in a real browser, on a phone: open the checked-in patient from
"My day", write and sign a note, add an allergy and a referral without the page reloading (htmx
swaps the workspace in place), then complete the visit."""

from __future__ import annotations

import pytest
import time_machine

from records.models import Allergy, ClinicalNote, Referral
from tests.conftest import CLINIC_MOMENT
from tests.e2e.conftest import htmx_at_rest
from tests.factories import PASSWORD, DepartmentFactory, DoctorFactory
from tests.records.conftest import checked_in_visit

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_doctor_writes_the_visit_on_a_phone_without_reloading(page, live_server):
    with time_machine.travel(CLINIC_MOMENT, tick=True):
        appointment, _, doctor = checked_in_visit()
        target = DoctorFactory(department=DepartmentFactory(name="全科", name_en="General"))

        page.goto(live_server.url + "/accounts/login/?next=/doctor/")
        page.get_by_label("Mobile number or e-mail").fill(doctor.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.locator("main form").get_by_role("button", name="Sign In").click()
        page.wait_for_url(live_server.url + "/doctor/")
        page.get_by_role("link", name=f"Open the visit of {appointment.patient.name}").click()
        page.wait_for_url(f"{live_server.url}/doctor/visit/{appointment.code}/")
        page.evaluate("window.loadedOnce = true")

        page.get_by_label("Subjective").fill("咳嗽三天")
        page.get_by_label("Diagnosis", exact=True).fill("急性上呼吸道感染")
        page.get_by_label("Substance").fill("青霉素")
        page.get_by_label("Severity").select_option("severe")
        page.get_by_role("button", name="Add the allergy").click()
        page.wait_for_selector(".clinical-item:has-text('青霉素')")
        # The unsaved note text survived the allergy's round trip.
        assert page.get_by_label("Subjective").input_value() == "咳嗽三天"

        page.get_by_role("button", name="Sign the note").click()
        page.wait_for_selector(".note-meta:has-text('Signed')")
        assert page.get_by_label("Subjective").input_value() == ""
        # The signed note swapped the workspace: htmx binds the new hospital select when the swap
        # settles (20 ms later), and a change before that would load no departments.
        htmx_at_rest(page)

        page.get_by_label("To hospital or clinic").select_option(str(target.hospital_id))
        page.get_by_label("Department (optional)").select_option(str(target.department_id))
        page.get_by_label("Reason").fill("需要社区随访")
        page.get_by_role("button", name="Issue the referral").click()
        page.wait_for_selector(".referral:has-text('需要社区随访')")
        assert page.evaluate("window.loadedOnce") is True  # never reloaded

        page.get_by_role("button", name="Complete the visit").click()
        page.wait_for_url(live_server.url + "/doctor/")
        assert "is completed" in page.locator(".messages").inner_text()

    assert ClinicalNote.objects.get().is_signed
    assert Allergy.objects.get().severity == "severe"
    referral = Referral.objects.get()
    assert referral.to_department_id == target.department_id
    appointment.encounter.refresh_from_db()
    assert not appointment.encounter.is_open
