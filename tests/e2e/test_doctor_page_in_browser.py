"""The doctor page on a phone (issue 19, item 1): a strip of 14 days over the periods of one
day, short enough to read (at most 1,700 px at 390×844 for a doctor with three sessions a day
for two weeks), and "next available" shows its day without a reload."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.utils import timezone

from appointments.models import Slot
from tests.factories import DoctorFactory, HospitalFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
SESSIONS = (
    (dt.time(8), 7, 30, "in_person"),
    (dt.time(13, 30), 6, 30, "in_person"),
    (dt.time(19), 8, 15, "online"),
)


def busy_doctor():
    """Three sessions a day for 14 days; tomorrow fully booked, so the next free day is after."""
    cloud = HospitalFactory(kind="cloud", name_en="Cloud Hospital")
    doctor = DoctorFactory(
        offers_online=True,
        bio="擅长儿童湿疹、荨麻疹与痤疮的诊治，从事皮肤科临床工作二十年。" * 2,
        bio_en="Twenty years of paediatric eczema, urticaria and acne. " * 2,
    )
    today = timezone.now().astimezone(SHANGHAI).date()
    slots = []
    for offset in range(1, 14):
        day = today + dt.timedelta(days=offset)
        for first, count, minutes, mode in SESSIONS:
            for index in range(count):
                start = dt.datetime.combine(day, first, tzinfo=SHANGHAI) + dt.timedelta(
                    minutes=minutes * index
                )
                release = start - dt.timedelta(days=7)
                slots.append(
                    Slot(
                        doctor=doctor,
                        site=cloud if mode == "online" else doctor.hospital,
                        department=doctor.department,
                        mode=mode,
                        start=start,
                        end=start + dt.timedelta(minutes=minutes),
                        capacity=3,
                        booked=3 if offset == 1 else 0,
                        fee=Decimal("25.00"),
                        release_at=release,
                        referral_release_at=release,
                        referral_merge_at=start,
                    )
                )
    Slot.objects.bulk_create(slots)
    return doctor, today + dt.timedelta(days=2)


class DoctorPageOnAPhone(ChannelsLiveServerTestCase):
    serve_static = True

    @pytest.fixture(autouse=True)
    def _chromium(self, browser):
        self.browser = browser

    def test_the_strip_keeps_the_page_short_and_next_available_shows_its_day(self):
        doctor, next_free = busy_doctor()
        for language in ("zh-hans", "en"):
            context = self.browser.new_context(viewport={"width": 390, "height": 844})
            try:
                context.add_cookies(
                    [{"name": "django_language", "value": language, "url": self.live_server_url}]
                )
                page = context.new_page()
                page.set_default_timeout(10_000)
                page.goto(f"{self.live_server_url}/doctors/{doctor.pk}/")
                assert page.locator(".strip-day").count() == 14
                height = page.evaluate("document.documentElement.scrollHeight")
                assert height <= 1700, (language, height)
                assert page.evaluate("document.documentElement.scrollWidth") <= 390
                book = page.locator(".period-open a.period-book").first.inner_text()
                assert book.startswith("Book · 3 left" if language == "en" else "预约 · 余 3")

                page.click(".next-free-jump")
                panel = page.locator(f'[data-day-panel="{next_free.isoformat()}"]')
                panel.wait_for(state="visible")
                assert page.locator("[data-day-panel]:visible").count() == 1
                assert f"day={next_free.isoformat()}" in page.url
                assert page.locator(".strip-day.chosen").get_attribute("data-day") == (
                    next_free.isoformat()
                )
                height = page.evaluate("document.documentElement.scrollHeight")
                assert height <= 1700, (language, height)
            finally:
                context.close()
