"""Places left change on an open doctor page while someone else takes a place: the push goes
from the server that handled the booking to the browser's socket, and the page's script updates
the figure without a reload (the 20 s poll cannot have done it: the page is younger)."""

from __future__ import annotations

import os
import shutil

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from tests.appointments.booking_setup import open_slot, person
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS


def session_cookie(user, url: str) -> dict:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return {"name": "sessionid", "value": store.session_key, "url": url}


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"Chromium not found at {CHROMIUM}")
class LivePlacesInTheBrowser(ChannelsLiveServerTestCase):
    serve_static = True

    def test_a_hold_elsewhere_lowers_the_places_left_on_an_open_page(self):
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        from playwright.sync_api import sync_playwright

        slot = open_slot(capacity=2)
        _patient, bob = person()
        url = self.live_server_url
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                watcher = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
                watcher.set_default_timeout(10_000)
                watcher.goto(f"{url}/doctors/{slot.doctor_id}/")
                figure = watcher.locator(f'[data-slot="{slot.pk}"] [data-places]')
                assert figure.inner_text() == "2"
                watcher.wait_for_selector('body[data-live-places="connected"]')

                booker = browser.new_context()
                booker.add_cookies([session_cookie(bob, url)])
                booker.new_page().goto(f"{url}/appointments/book/{slot.pk}/")

                watcher.wait_for_function(
                    "cell => cell.textContent === '1'", arg=figure.element_handle()
                )
            finally:
                browser.close()
