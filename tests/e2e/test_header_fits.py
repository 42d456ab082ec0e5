"""The header holds every entry of the busiest account (issue 19: at 1280 px in English a staff
account's "Sign out" was cut off at the edge): on a desktop and a phone, in both languages,
every entry and "Sign out" are inside the window."""

from __future__ import annotations

import pytest

from tests.appointments.conftest import clerk_of
from tests.factories import HospitalFactory, StaffMembershipFactory
from tests.sockets import browser_session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def _inside(page, locator) -> bool:
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_header_entry_and_sign_out_fit_the_window(page, live_server, language):
    hospital = HospitalFactory()
    # Platform admin, hospital admin, doctor and clerk: the longest navigation there is.
    user = clerk_of(hospital, role="hospital_admin")
    user.is_staff = user.is_superuser = True
    user.save()
    for role in ("doctor", "front_desk"):
        StaffMembershipFactory(user=user, hospital=hospital, role=role)
    page.context.add_cookies(
        [
            browser_session_cookie(user, live_server.url),
            {"name": "django_language", "value": language, "url": live_server.url},
        ]
    )
    page.goto(live_server.url + "/")
    nav = page.locator("#site-nav")
    sign_out = nav.locator("form[action$='/logout/'] button")
    for width in (1280, 820, 390):
        page.set_viewport_size({"width": width, "height": 900})
        if width == 390:
            page.locator(".menu-toggle").click()
        entries = nav.locator("a, button")
        assert entries.count() >= 13  # eleven destinations, the account and "Sign out"
        for index in range(entries.count()):
            entry = entries.nth(index)
            assert entry.is_visible() and _inside(page, entry), (width, entry.inner_text())
        assert _inside(page, sign_out), width
        # No entry breaks over two lines.
        heights = {round(entries.nth(i).bounding_box()["height"]) for i in range(entries.count())}
        assert max(heights) < 60, (width, heights)
