"""The flagship story (DESIGN.md §1, steps 1–6) as one person and their doctors click it, in
real Chromium: the parent on a phone, the staff at desktops, one live ASGI server for pages and
consult sockets.

1. A parent signs in, adds a child with real name, ID number and consent, and gives the
   sharing and telemedicine consents on the child's page.
2. Searches "dermatology" (this afternoon, online), books the cloud hospital's 14:00 consult
   for the child; the confirmation e-mail carries an .ics invitation.
3. Parent and cloud doctor open the consult room; the doctor admits; video connects; they chat.
4. In the room's workspace the doctor signs a note and a prescription and refers the child to
   a community clinic's GP, then ends the consult; the parent follows "Book with this
   referral" from My record and takes a referral place.
5. The clinic's desk checks the child in with the code; the GP opens the visit from "My day",
   reads the cloud doctor's note, signs their own and completes the visit.
6. The parent sees both encounters in My record and downloads the FHIR R4 Bundle, which
   validates and holds both encounters.

The clock: the server runs in a process forked from this one, so the story's moment (13:50 in
Ningbo, always ahead of the real clock so cookies never look expired to the browser) is set
before the server starts, and ticks.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from channels.testing import ChannelsLiveServerTestCase
from django.core import mail
from django.db import connections
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from icalendar import Calendar

from appointments.models import Appointment
from notifications.models import OutboxMessage
from notifications.services import outbox_deliver_due
from records.idnumbers import make_id_number
from records.models import ClinicalNote, Consent, Patient, Prescription, Referral
from tests.appointments.conftest import SHANGHAI, clerk_of, open_slot, person
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, htmx_at_rest
from tests.e2e.test_consult_in_browser import MEDIA_ARGS
from tests.factories import (
    PASSWORD,
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    UserFactory,
)
from tests.records.conftest import drug
from tests.sockets import browser_session_cookie

CHILD = "王小明"
CLOUD_NOTE = "双颊红斑瘙痒两周"
CLINIC_NOTE = "双颊红斑较前消退"
CHAT_PARENT = "Good afternoon, doctor"
CHAT_DOCTOR = "Good afternoon, let me see the rash"


def story_moment() -> dt.datetime:
    """The next 13:50 in Ningbo after the real now (never behind it, at most a day ahead)."""
    now = dt.datetime.now(SHANGHAI)
    moment = now.replace(hour=13, minute=50, second=0, microsecond=0)
    return moment if moment > now else moment + dt.timedelta(days=1)


def deliver_outbox() -> None:
    """What the worker does: drain the outbox. In a thread of its own, since this one runs
    Playwright's event loop (the in-app push goes through async_to_sync). The server's clock
    was forked from this one and may run a fraction of a second ahead: drain a moment later."""

    def drain(moment: dt.datetime) -> int:
        try:
            return outbox_deliver_due(now=moment)
        finally:
            connections.close_all()  # this thread's: the test database is dropped at the end

    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(drain, timezone.now() + dt.timedelta(minutes=1)).result()


class FlagshipStory(ChannelsLiveServerTestCase):
    serve_static = True

    @classmethod
    def setUpClass(cls):
        cls.moment = story_moment()
        cls.clock = time_machine.travel(cls.moment, tick=True)
        cls.clock.start()  # before the server process is forked: it inherits the clock
        try:
            super().setUpClass()
        except Exception:
            cls.clock.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.clock.stop()

    @pytest.fixture(autouse=True)
    def _chromium(self, browser):
        # The session's Playwright, with a browser of its own that has a fake camera.
        self.media_browser = browser.browser_type.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *MEDIA_ARGS]
        )
        self.contexts = []
        yield
        for context in self.contexts:
            context.close()
        self.media_browser.close()

    def _page(self, width: int, height: int, user=None):
        context = self.media_browser.new_context(
            viewport={"width": width, "height": height}, locale="en-US"
        )
        self.contexts.append(context)
        cookies = [{"name": "django_language", "value": "en", "url": self.live_server_url}]
        if user is not None:
            cookies.append(browser_session_cookie(user, self.live_server_url))
        context.add_cookies(cookies)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    def _city(self):
        """The cloud hospital's dermatologist with this afternoon's online period, and a
        community clinic's GP with a referral-only period later the same afternoon."""
        local = lambda hour, minute=0: self.moment.replace(hour=hour, minute=minute)  # noqa: E731
        cloud = HospitalFactory(name="宁波云医院", name_en="Ningbo Cloud Hospital", kind="cloud")
        skin = DepartmentFactory(hospital=cloud, name="皮肤科", name_en="Dermatology")
        self.cloud_doctor = DoctorFactory(
            department=skin,
            name="周若溪",
            name_en="Zhou Ruoxi",
            user=UserFactory(name="周若溪"),
            offers_online=True,
        )
        self.consult_slot = open_slot(
            doctor=self.cloud_doctor, mode="online", start=local(14), end=local(14, 30)
        )
        # Another dermatologist, in person elsewhere: the search must be narrowed to online.
        DoctorFactory(department=DepartmentFactory(name="皮肤科", name_en="Dermatology"))
        self.clinic = HospitalFactory(
            name="月湖社区卫生服务中心", name_en="Yuehu Community Clinic", kind="clinic"
        )
        general = DepartmentFactory(hospital=self.clinic, name="全科", name_en="General practice")
        self.gp = DoctorFactory(
            department=general, name="陈立", name_en="Chen Li", user=UserFactory(name="陈立")
        )
        start = local(15)
        self.clinic_slot = open_slot(
            doctor=self.gp,
            mode="in_person",
            start=start,
            end=start + dt.timedelta(minutes=30),
            capacity=0,
            referral_capacity=2,
            referral_merge_at=start,  # kept for referrals until it starts
        )
        self.clerk = clerk_of(self.clinic)
        self.drug = drug()  # the formulary the prescription editor offers

    def test_the_flagship_story(self):
        self._city()
        parent = UserFactory(email="lili@example.com", name="李丽")
        person(parent, name="李丽")  # the parent's own record comes first
        url = self.live_server_url
        phone = self._page(390, 844)

        # 1. Sign in through the form; add the child; give the two consents on their page.
        phone.goto(url + "/accounts/login/?next=/me/patients/")
        phone.get_by_label("Mobile number or e-mail").fill(parent.email)
        phone.get_by_label("Password").fill(PASSWORD)
        phone.locator("main form").get_by_role("button", name="Sign In").click()
        phone.wait_for_url(url + "/me/patients/")
        phone.get_by_role("link", name="Add a person").click()
        birth = dt.date(2019, 6, 1)
        number = make_id_number(birth_date=birth, sex="male", sequence=12)
        phone.get_by_label("This person is").select_option("child")
        phone.get_by_label("Real name").fill(CHILD)
        phone.get_by_label("ID number", exact=True).fill(number)
        phone.get_by_label("I consent").check()
        phone.locator("main form").get_by_role("button", name="Continue").click()
        phone.locator("main form").get_by_role("button", name="Add").click()
        phone.wait_for_selector(f"h1:has-text('{CHILD}')")
        for kind in ("record_sharing", "telemedicine"):
            phone.locator(f"#consent-{kind}").get_by_role("button", name="Give consent").click()
            phone.wait_for_selector(f"#consent-{kind} .tag:has-text('given')")
        assert number not in phone.content()
        child = Patient.objects.get(name=CHILD)
        assert set(Consent.objects.filter(patient=child).values_list("kind", "on_behalf")) == {
            ("id_and_health_data", "guardian"),
            ("record_sharing", "guardian"),
            ("telemedicine", "guardian"),
        }

        # 2. Search this afternoon's online dermatology; book the cloud consult for the child.
        phone.goto(url + "/search/")
        phone.get_by_label("Doctor, department, specialty or hospital").fill("dermatology")
        phone.get_by_label("Date", exact=True).fill(self.moment.date().isoformat())
        phone.get_by_label("Time of day").select_option("afternoon")
        phone.get_by_label("How", exact=True).select_option("online")
        phone.locator("main form").get_by_role("button", name="Search").click()
        phone.wait_for_selector("#results-heading:has-text('1 doctor with free periods')")
        card = phone.locator(".doctor-result", has_text="Ningbo Cloud Hospital")
        card.get_by_role("link", name=re.compile("14:00–14:30")).click()
        phone.wait_for_url(f"{url}/appointments/book/{self.consult_slot.pk}/")
        phone.get_by_label("Who is the appointment for?").select_option(label=CHILD)
        phone.get_by_label("Reason for the visit (optional)").fill("面部皮疹两周")
        phone.get_by_role("button", name="Book this time").click()
        phone.wait_for_url(re.compile(r".*/appointments/[A-Za-z0-9-]+/$"))
        online = Appointment.objects.get(patient=child, slot=self.consult_slot)
        assert online.code in phone.locator(".messages").inner_text()

        # The confirmation is in the outbox with the booking; a worker sends it with the .ics.
        assert OutboxMessage.objects.filter(
            kind="appointment.booked", account=parent, channel="email"
        ).exists()
        deliver_outbox()
        [confirmation] = [m for m in mail.outbox if online.code in m.body]
        assert confirmation.to == [parent.email] and "Zhou Ruoxi" in confirmation.subject
        [invite] = [
            Calendar.from_ical(content)
            for name, content, mimetype in confirmation.attachments
            if name == f"{online.code}.ics" and mimetype.startswith("text/calendar")
        ]
        assert invite["METHOD"] == "REQUEST"
        event = invite.walk("VEVENT")[0]
        assert event["DTSTART"].dt == self.consult_slot.start
        assert number not in confirmation.body and "面部皮疹" not in confirmation.body

        # 3. The room: the parent waits, the doctor starts it from "My day" and admits.
        phone.get_by_role("link", name="Open the consult room").click()
        phone.wait_for_selector('[data-check="camera"][data-ok="yes"]')
        phone.wait_for_selector('[data-check="signalling"][data-ok="yes"]')
        doctor = self._page(1280, 900, self.cloud_doctor.user)
        doctor.goto(url + "/doctor/")
        doctor.get_by_role("link", name=f"Start the consult with {CHILD}").click()
        doctor.wait_for_url(f"{url}/consult/{online.consultation.public_id}/")
        doctor.click("#admit:not([disabled])")
        for page in (phone, doctor):
            page.wait_for_selector('#consult[data-peer-state="connected"]')
            page.wait_for_selector('#consult-state[data-state="connected"]')
            assert page.evaluate("document.getElementById('remote-video').srcObject !== null")
        phone.click(".chat-toggle")  # on a phone in a call the chat opens over the video
        phone.fill("#chat-text", CHAT_PARENT)
        phone.click("#chat-form button")
        doctor.fill("#chat-text", CHAT_DOCTOR)
        doctor.click("#chat-form button")
        for page in (phone, doctor):
            page.wait_for_selector(f"#chat-log >> text={CHAT_PARENT}")
            page.wait_for_selector(f"#chat-log >> text={CHAT_DOCTOR}")

        # 4. The workspace opened with the consult: note, prescription, referral, in place.
        doctor.wait_for_selector("#note-form")
        doctor.evaluate("window.loadedOnce = true")
        note = doctor.locator("#note-form")
        note.get_by_label("Subjective", exact=True).fill(CLOUD_NOTE)
        note.get_by_label("Assessment", exact=True).fill("特应性皮炎")
        note.get_by_label("Plan", exact=True).fill("外用弱效激素，社区复诊")
        note.get_by_label("Diagnosis", exact=True).fill("特应性皮炎")
        note.get_by_label("ICD-10 code (optional)").fill("L20.9")
        note.get_by_role("button", name="Sign the note").click()
        doctor.wait_for_selector(f".note:has-text('{CLOUD_NOTE}') .note-meta:has-text('Signed')")

        doctor.get_by_label("Drug", exact=True).select_option(str(self.drug.pk))
        doctor.get_by_label("Dose", exact=True).fill("5 mg")
        doctor.get_by_label("How often").fill("每日一次")
        doctor.get_by_label("Days", exact=True).fill("7")
        doctor.get_by_label("Quantity", exact=True).fill("1")
        doctor.get_by_role("button", name="Add to the prescription").click()
        doctor.get_by_role("button", name="Sign the prescription").click()
        doctor.wait_for_selector(".rx .note-meta:has-text('signed')")
        htmx_at_rest(doctor)  # the swapped form binds its hospital select when the swap settles

        doctor.get_by_label("To hospital or clinic").select_option(str(self.clinic.pk))
        doctor.get_by_label("Department (optional)").select_option(str(self.gp.department_id))
        doctor.get_by_label("Doctor (optional)").select_option(str(self.gp.pk))
        doctor.get_by_label("Reason", exact=True).fill("线下查看皮损，随访用药效果")
        doctor.get_by_role("button", name="Issue the referral").click()
        doctor.wait_for_selector(".referral:has-text('线下查看皮损')")
        assert doctor.evaluate("window.loadedOnce") is True  # the call was never reloaded
        assert doctor.locator("#consult").get_attribute("data-peer-state") == "connected"

        doctor.once("dialog", lambda dialog: dialog.accept())
        doctor.get_by_role("button", name="End the consult").click()
        phone.wait_for_selector('#consult-state[data-state="ended"]')
        online.refresh_from_db()
        assert online.status == "completed"
        assert ClinicalNote.objects.get(encounter=online.encounter).is_signed
        assert Prescription.objects.get(encounter=online.encounter).signed_at is not None

        # The parent books the clinic's referral place from My record.
        phone.goto(url + "/me/record/")
        switcher = phone.get_by_role("navigation", name="Whose record")
        switcher.get_by_role("link", name=CHILD).click()
        phone.wait_for_url(f"{url}/me/record/{child.public_id}/")
        assert CLOUD_NOTE in phone.locator("main").inner_text()
        phone.get_by_role("link", name="Book with this referral").click()
        phone.wait_for_url(re.compile(rf".*/doctors/{self.gp.pk}/\?referral=.*"))
        phone.locator(f'[data-slot="{self.clinic_slot.pk}"]').get_by_role(
            "link", name="Referral places only"
        ).click()
        phone.wait_for_url(re.compile(rf".*/appointments/book/{self.clinic_slot.pk}/\?referral="))
        assert f"Referral place for {CHILD}" in phone.locator("main").inner_text()
        phone.get_by_role("button", name="Book this time").click()
        phone.wait_for_url(re.compile(r".*/appointments/[A-Za-z0-9-]+/$"))
        code = re.search(
            r"appointment code is ([A-Za-z0-9-]+)", phone.locator(".messages").inner_text()
        ).group(1)
        visit = Appointment.objects.get(code=code)
        assert (visit.slot_id, visit.pool) == (self.clinic_slot.pk, "referral")
        referral = Referral.objects.get(patient=child)
        assert referral.status == Referral.Status.BOOKED

        # 5. The clinic's desk checks the child in with the code.
        desk = self._page(1280, 900, self.clerk)
        desk.goto(url + "/desk/")
        desk.get_by_label("Appointment code").fill(code)
        desk.get_by_role("button", name="Find").click()
        desk.wait_for_selector(f"h2:has-text('{code} ·')")
        assert number not in desk.content()
        desk.get_by_role("button", name="Check in").click()
        desk.wait_for_selector("text=is checked in: queue number A001.")

        # The GP opens the visit from "My day", reads the cloud note, writes and signs their own.
        gp = self._page(1280, 900, self.gp.user)
        gp.goto(url + "/doctor/")
        gp.get_by_role("link", name=f"Open the visit of {CHILD}").click()
        gp.wait_for_url(f"{url}/doctor/visit/{code}/")
        record = gp.locator(".clinical-record").inner_text()
        assert CLOUD_NOTE in record and "氯雷他定片" in record
        note = gp.locator("#note-form")
        note.get_by_label("Objective", exact=True).fill(CLINIC_NOTE)
        note.get_by_label("Assessment", exact=True).fill("特应性皮炎好转")
        note.get_by_label("Diagnosis", exact=True).fill("特应性皮炎")
        note.get_by_role("button", name="Sign the note").click()
        gp.wait_for_selector(f".note:has-text('{CLINIC_NOTE}') .note-meta:has-text('Signed')")
        gp.get_by_role("button", name="Complete the visit").click()
        gp.wait_for_url(url + "/doctor/")
        assert "is completed" in gp.locator(".messages").inner_text()
        assert Referral.objects.get(pk=referral.pk).status == Referral.Status.COMPLETED

        # 6. My record shows both encounters; the FHIR Bundle downloads and holds both.
        phone.goto(f"{url}/me/record/{child.public_id}/")
        main = phone.locator("main").inner_text()
        assert CLOUD_NOTE in main and CLINIC_NOTE in main
        heads = phone.locator("article.encounter .encounter-head").all_inner_texts()
        assert len(heads) == 2
        assert any("Ningbo Cloud Hospital" in head for head in heads)
        assert any("Yuehu Community Clinic" in head for head in heads)
        with phone.expect_download() as download:
            phone.get_by_role("link", name="Download (FHIR R4)").click()
        bundle = json.loads(download.value.path().read_bytes())
        Bundle.model_validate(bundle)
        encounters = [
            entry["resource"]
            for entry in bundle["entry"]
            if entry["resource"]["resourceType"] == "Encounter"
        ]
        assert {e["id"] for e in encounters} == {
            str(online.encounter.public_id),
            str(Appointment.objects.get(pk=visit.pk).encounter.public_id),
        }
        assert number not in json.dumps(bundle)
