"""远程会诊 in three real browsers (issue 15): the GP at Yuehu clinic books the cloud
dermatologist for the patient on the visit and invites the patient's phone; the GP, the
specialist and the patient at home all reach `connected` with each other (a WebRTC mesh, fake
320×240 camera at 15 fps); the specialist signs an opinion; the GP completes the visit; the
patient's record shows the opinion, and so does FHIR `$everything`."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from appointments.models import Appointment
from tests.appointments.conftest import open_slot
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_consult_in_browser import MEDIA_ARGS
from tests.factories import (
    ConsentFactory,
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    UserFactory,
)
from tests.records.conftest import checked_in_visit
from tests.sockets import browser_session_cookie

# The fake camera at the size and rate the issue names.
SMALL_CAMERA = """
(() => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) => original(
    constraints && constraints.video
      ? { ...constraints, video: { width: 320, height: 240, frameRate: 15 } }
      : constraints);
})();
"""
OPINION = "考虑接触性皮炎，建议停用新洗衣液"
CONNECTED = 60_000  # ms: each page reaches `connected` with both others within this


class RemoteConsultationInThreeBrowsers(ChannelsLiveServerTestCase):
    serve_static = True

    @pytest.fixture(autouse=True)
    def _chromium(self, browser):
        self.media_browser = browser.browser_type.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *MEDIA_ARGS]
        )
        yield
        self.media_browser.close()

    def _page(self, user, width: int):
        context = self.media_browser.new_context(
            viewport={"width": width, "height": 900}, locale="en-US"
        )
        context.add_cookies([browser_session_cookie(user, self.live_server_url)])
        context.add_init_script(SMALL_CAMERA)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return context, page

    def test_gp_specialist_and_patient_at_home_connect_and_the_opinion_reaches_the_record(self):
        url = self.live_server_url
        clinic = HospitalFactory(kind="clinic", name="月湖社区卫生服务中心", name_en="Yuehu Clinic")
        gp_doctor = DoctorFactory(
            department=DepartmentFactory(hospital=clinic, name="全科", name_en="General"),
            user=UserFactory(),
        )
        visit, family, gp = checked_in_visit(doctor=gp_doctor)
        patient = visit.patient
        for kind in ("telemedicine", "record_sharing"):
            ConsentFactory(patient=patient, given_by=family, on_behalf="self", kind=kind)
        cloud = HospitalFactory(kind="cloud", name="宁波云医院", name_en="Ningbo Cloud Hospital")
        dermatologist = DoctorFactory(
            department=DepartmentFactory(hospital=cloud, name="皮肤科", name_en="Dermatology"),
            user=UserFactory(),
            offers_online=True,
            name="王皮肤",
            name_en="Dr Wang",
        )
        start = timezone.now() + dt.timedelta(minutes=5)
        open_slot(
            doctor=dermatologist, mode="remote", start=start, end=start + dt.timedelta(minutes=30)
        )

        pages = []
        try:
            gp_context, gp_page = self._page(gp, 1280)
            pages.append(gp_context)
            gp_page.goto(f"{url}/doctor/visit/{visit.code}/")
            gp_page.get_by_role("link", name="Consult a specialist").click()
            gp_page.get_by_label("Question for the specialist").fill(
                "双前臂瘙痒皮疹三周，湿疹还是接触性皮炎？"
            )
            gp_page.get_by_label("The patient joins from their own device (at home)").check()
            gp_page.get_by_role("button", name="Book the remote consultation").click()
            gp_page.wait_for_url(f"{url}/doctor/visit/{visit.code}/")
            consultation = Appointment.objects.get(slot__doctor=dermatologist).consultation
            room = f"{url}/consult/{consultation.public_id}/"

            specialist_context, specialist = self._page(dermatologist.user, 1280)
            patient_context, at_home = self._page(family, 390)
            pages += [specialist_context, patient_context]
            specialist.goto(room)
            specialist.wait_for_selector("text=双前臂瘙痒皮疹三周")  # the question, before the call
            gp_page.click("a.remote-room")
            gp_page.wait_for_url(room)
            at_home.goto(room)
            for page in (gp_page, specialist, at_home):
                page.wait_for_selector('#consult[data-peers="2"]')
            specialist.click("#admit:not([disabled])")
            for page in (gp_page, specialist, at_home):
                page.wait_for_selector('#consult[data-connected-peers="2"]', timeout=CONNECTED)
                page.wait_for_selector('#consult-state[data-state="connected"]')

            # The specialist signs the opinion in the record's editors under the call.
            specialist.get_by_label("Assessment").fill(OPINION)
            specialist.get_by_label("Diagnosis", exact=True).fill("接触性皮炎")
            specialist.get_by_role("button", name="Sign the note").click()
            specialist.wait_for_selector(".note-meta:has-text('Signed')")

            # The GP's visit goes on with the opinion in front of them (the record is shared).
            gp_page.goto(f"{url}/doctor/visit/{visit.code}/")
            gp_page.wait_for_selector(f"text={OPINION}")
            gp_page.get_by_role("button", name="Complete the visit").click()
            gp_page.wait_for_url(url + "/doctor/")

            at_home.goto(f"{url}/me/record/{patient.public_id}/")
            record = at_home.locator("main").inner_text()
            assert "Consult opinion" in record and OPINION in record
            assert "Who took part" in record
            bundle = at_home.evaluate(
                "async (path) => (await fetch(path)).json()",
                f"/fhir/Patient/{patient.public_id}/$everything",
            )
        finally:
            for context in pages:
                context.close()
        Bundle.model_validate(bundle)
        opinions = [
            entry["resource"]
            for entry in bundle["entry"]
            if entry["resource"]["resourceType"] == "DocumentReference"
            and entry["resource"]["type"]["coding"][0]["code"] == "11488-4"
        ]
        assert len(opinions) == 1
        text = base64.b64decode(opinions[0]["content"][0]["attachment"]["data"]).decode()
        assert OPINION in text
        assert json.dumps(bundle)  # serialisable as downloaded
        assert Appointment.objects.get(pk=visit.pk).status == "completed"
