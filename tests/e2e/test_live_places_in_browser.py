"""Places left change on an open doctor page while someone else takes a place: the push goes
from the server that handled the booking to the browser's socket, and the page's script updates
the figure without a reload (the 20 s poll cannot have done it: the page is younger)."""

from __future__ import annotations

import pytest
from channels.testing import ChannelsLiveServerTestCase

from tests.appointments.conftest import open_slot, person
from tests.sockets import browser_session_cookie


class LivePlacesInTheBrowser(ChannelsLiveServerTestCase):
    serve_static = True

    @pytest.fixture(autouse=True)
    def _chromium(self, browser):
        # The session's browser (tests/e2e/conftest.py): one Playwright per process.
        self.browser = browser

    def test_a_hold_elsewhere_lowers_the_places_left_on_an_open_page(self):
        slot = open_slot(capacity=2)
        _patient, bob = person()
        url = self.live_server_url
        watching = self.browser.new_context(viewport={"width": 390, "height": 844})
        booking = self.browser.new_context()
        try:
            watcher = watching.new_page()
            watcher.set_default_timeout(10_000)
            watcher.goto(f"{url}/doctors/{slot.doctor_id}/")
            figure = watcher.locator(f'[data-slot="{slot.pk}"] [data-places]')
            assert figure.inner_text() == "2"
            watcher.wait_for_selector('body[data-live-places="connected"]')

            booking.add_cookies([browser_session_cookie(bob, url)])
            booking.new_page().goto(f"{url}/appointments/book/{slot.pk}/")

            watcher.wait_for_function(
                "cell => cell.textContent === '1'", arg=figure.element_handle()
            )
        finally:
            watching.close()
            booking.close()
