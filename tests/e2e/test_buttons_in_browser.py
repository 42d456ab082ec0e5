"""Buttons in both languages (issue 19, item 13): a button keeps the spaces between its words
and its inner elements ("Book · 3 left", never "Book ·3left") and never wraps — "编辑排班" in
the rota table on one line, English words never broken — on a phone, the narrowest case."""

from __future__ import annotations

import pytest

from tests.appointments.conftest import clerk_of, open_slot
from tests.factories import DoctorFactory, HospitalFactory
from tests.sockets import browser_session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

ONE_LINE = """() => [...document.querySelectorAll("main .button, main a.period-book")]
  .filter(b => b.offsetParent !== null)
  .map(b => [b.innerText, b.getClientRects().length,
             !b.classList.contains("button") || b.scrollWidth <= b.clientWidth + 1,
             Math.round(b.getBoundingClientRect().height)])"""


def test_buttons_keep_their_spaces_and_stay_on_one_line(browser, live_server):
    hospital = HospitalFactory()
    for index in range(3):
        DoctorFactory(department__hospital=hospital, name=f"欧阳医生{index}")
    slot = open_slot(doctor=DoctorFactory(department__hospital=hospital))
    admin = clerk_of(hospital, role="hospital_admin")
    for language, width in (("en", 390), ("zh-hans", 390)):
        context = browser.new_context(viewport={"width": width, "height": 844})
        try:
            context.add_cookies(
                [
                    browser_session_cookie(admin, live_server.url),
                    {"name": "django_language", "value": language, "url": live_server.url},
                ]
            )
            page = context.new_page()
            page.set_default_timeout(10_000)
            for path in (f"/manage/{hospital.slug}/rota/", f"/doctors/{slot.doctor_id}/"):
                page.goto(live_server.url + path)
                buttons = page.evaluate(ONE_LINE)
                assert buttons, path
                for text, lines, fits, height in buttons:
                    assert lines == 1 and fits and height <= 50, (language, width, text)
                assert page.evaluate("document.documentElement.scrollWidth") <= width
            if language == "en":
                book = page.locator(f'[data-slot="{slot.pk}"] a.period-book').inner_text()
                assert book.startswith("Book · 3 left"), book
            else:
                page.goto(f"{live_server.url}/manage/{hospital.slug}/rota/")
                edit = page.locator("main a.button", has_text="编辑")
                assert edit.count() == 4 and "排班" in edit.first.text_content()
        finally:
            context.close()
