"""A consult in two real browsers: the patient waits, the doctor admits, both pages reach a
connected RTCPeerConnection (fake camera and microphone) and see each other's chat message."""

from __future__ import annotations

import pytest
from channels.testing import ChannelsLiveServerTestCase

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.sockets import browser_session_cookie
from tests.telemedicine.conftest import open_room

MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # Host candidates as plain addresses: this machine has no mDNS to resolve `.local` names.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]


class ConsultInTwoBrowsers(ChannelsLiveServerTestCase):
    serve_static = True

    @pytest.fixture(autouse=True)
    def _chromium(self, browser):
        # The session's Playwright, with a browser of its own that has a fake camera.
        self.media_browser = browser.browser_type.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *MEDIA_ARGS]
        )
        yield
        self.media_browser.close()

    def _page(self, user, width: int):
        context = self.media_browser.new_context(viewport={"width": width, "height": 900})
        context.add_cookies([browser_session_cookie(user, self.live_server_url)])
        page = context.new_page()
        page.set_default_timeout(30_000)
        return context, page

    def test_the_doctor_admits_and_both_sides_connect_and_chat(self):
        appointment, patient_account, doctor_account = open_room()
        room = f"{self.live_server_url}/consult/{appointment.consultation.public_id}/"
        patient_context, patient = self._page(patient_account, 390)
        doctor_context, doctor = self._page(doctor_account, 1280)
        try:
            patient.goto(room)
            patient.wait_for_selector('[data-check="camera"][data-ok="yes"]')
            patient.wait_for_selector('[data-check="signalling"][data-ok="yes"]')
            doctor.goto(room)
            doctor.click("#admit:not([disabled])")
            for page in (patient, doctor):
                page.wait_for_selector('#consult[data-peer-state="connected"]')
                page.wait_for_selector('#consult-state[data-state="connected"]')
                assert page.evaluate("document.getElementById('remote-video').srcObject !== null")

            # On the phone in the call: the video takes the width and most of the height, the
            # pre-call check folds away, the chat waits behind a button that counts messages.
            stage = patient.locator(".video-stage").bounding_box()
            assert stage["width"] >= 389 and stage["height"] >= 0.6 * 900
            assert not patient.locator("#precheck").is_visible()
            assert not patient.locator("#chat-form").is_visible()
            doctor.fill("#chat-text", "Good morning, how can I help?")
            doctor.click("#chat-form button")
            patient.wait_for_selector(".chat-toggle .chat-unread:text-is('1')")
            patient.click(".chat-toggle")
            patient.fill("#chat-text", "Good morning, doctor")
            patient.click("#chat-form button")
            for page in (patient, doctor):
                page.wait_for_selector("#chat-log >> text=Good morning, doctor")
                page.wait_for_selector("#chat-log >> text=Good morning, how can I help?")
        finally:
            patient_context.close()
            doctor_context.close()
