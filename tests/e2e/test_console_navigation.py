"""One navigation for a hospital's console: from the overview to rota, publish, closures and the
day view and back, on a phone and on a desktop."""

from __future__ import annotations

import pytest

from tests.appointments.conftest import clerk_of
from tests.factories import HospitalFactory
from tests.sockets import browser_session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

SECTIONS = ["Rota", "Preview and publish", "Closures", "Day view", "Departments", "Doctors"]


def test_every_console_page_links_to_every_section_and_back(page, live_server):
    hospital = HospitalFactory(slug="nav")
    admin = clerk_of(hospital, role="hospital_admin")
    page.context.add_cookies(
        [
            browser_session_cookie(admin, live_server.url),
            {"name": "django_language", "value": "en", "url": live_server.url},
        ]
    )
    page.goto(live_server.url + "/manage/nav/")
    nav = page.get_by_role("navigation", name="Hospital console")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for section in SECTIONS:
            nav.get_by_role("link", name=section, exact=True).click()
            current = nav.locator("[aria-current=page]")
            current.wait_for()
            assert current.inner_text() == section
            assert current.is_visible()
        nav.get_by_role("link", name="Overview").click()
        page.wait_for_url(live_server.url + "/manage/nav/")
