"""Issue 20's browser story: a parent asks a text consult about her child's rash with a photo
(on a phone); the doctor answers and asks for a video visit (on a desktop); the parent sees it
arrive without reloading and books the video visit from the thread."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from channels.testing import ChannelsLiveServerTestCase

from appointments.models import Appointment
from telemedicine.models import TextConsult
from tests.appointments.conftest import open_slot
from tests.e2e.conftest import htmx_at_rest
from tests.records.conftest import jpeg_with_gps
from tests.sockets import browser_session_cookie
from tests.telemedicine.text import text_world


class TextConsultInTwoBrowsers(ChannelsLiveServerTestCase):
    serve_static = True

    @pytest.fixture(autouse=True)
    def _browser(self, browser):
        self.browser = browser

    def _page(self, user, width: int):
        context = self.browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
        context.add_cookies([browser_session_cookie(user, self.live_server_url)])
        page = context.new_page()
        page.set_default_timeout(30_000)
        return context, page

    def test_a_parent_asks_about_a_rash_and_books_the_video_visit_the_doctor_asks_for(self):
        world = text_world()
        slot = open_slot(doctor=world.doctor, mode="online", capacity=3)
        rash = Path(tempfile.mkdtemp()) / "rash.jpg"
        rash.write_bytes(jpeg_with_gps())
        base = self.live_server_url
        parent_context, parent = self._page(world.parent, 390)
        doctor_context, doctor = self._page(world.doctor_user, 1280)
        try:
            # The parent, on her phone, asks from the doctor's page.
            parent.goto(f"{base}/doctors/{world.doctor.pk}/")
            parent.get_by_role("link", name="Ask by text").click()
            parent.get_by_label("Who is the consult about?").select_option(label="王小明")
            parent.get_by_label("Your question").fill("Red itchy rash on his arm for 3 days")
            parent.get_by_label(re.compile("Photos")).set_input_files(str(rash))
            parent.get_by_role("button", name="Send the question").click()
            parent.wait_for_selector(".tc-message >> text=Red itchy rash on his arm")
            assert parent.locator(".tc-photos img").count() == 1
            parent.wait_for_selector('body[data-thread-live="connected"]')

            # The doctor finds it at the top of the queue, answers and asks for a video visit.
            doctor.goto(f"{base}/doctor/text-consults/")
            doctor.locator(".tc-queue-item a", has_text="王小明").click()
            doctor.get_by_label("Your answer").fill("It looks like eczema; let us look by video.")
            doctor.get_by_role("button", name="Send", exact=True).click()
            doctor.wait_for_selector(".tc-message >> text=It looks like eczema")
            doctor.get_by_role("button", name="Ask for a video visit").click()
            doctor.wait_for_selector(".tc-book")

            # The parent's thread shows both without a reload (pushed, then fetched).
            parent.wait_for_selector(".tc-message >> text=It looks like eczema")
            parent.wait_for_selector("a.tc-book-link")
            htmx_at_rest(parent)
            parent.get_by_role("link", name="Book a video visit").click()
            parent.wait_for_url(re.compile(rf".*/doctors/{world.doctor.pk}/\?day=.*"))
            parent.locator(f'[data-slot="{slot.pk}"] a.period-book').click()
            parent.wait_for_url(f"{base}/appointments/book/{slot.pk}/")
            parent.get_by_label("Who is the appointment for?").select_option(label="王小明")
            parent.get_by_role("button", name="Book this time").click()
            parent.wait_for_url(re.compile(r".*/appointments/[A-Za-z0-9-]+/$"))

            booked = Appointment.objects.get(patient=world.child)
            assert booked.slot_id == slot.pk and booked.slot.mode == "online"
            consult = TextConsult.objects.get()
            assert consult.book_mode == "online" and consult.doctor_answered_at is not None
        finally:
            parent_context.close()
            doctor_context.close()
